package config

import (
	"strings"
	"testing"
	"time"
)

// The connection budget's defaults fit four replicas on a default PostgreSQL, and a budget
// that leaves webhooks nothing is refused with its key.
func TestDatabaseBudgetDefaultsAndLimits(t *testing.T) {
	c, err := Parse([]byte("comuni: [{id: a, name: A}]"))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Database
	if perReplica := d.MaxOpenConns + 1; 4*perReplica > 100-3-10 {
		t.Fatalf("default budget %d per replica does not fit four replicas in 100 connections", perReplica)
	}
	if d.RequestConns() < 8 {
		t.Fatalf("only %d connections kept for requests", d.RequestConns())
	}
	if d.Writers != 1 {
		t.Fatalf("database.writers defaults to %d, want 1", d.Writers)
	}
	if c.Alerts.StallAfter != 2*time.Minute || c.Alerts.BatchLease != time.Minute {
		t.Fatalf("alerts defaults %+v", c.Alerts)
	}
	for yml, key := range map[string]string{
		"database: {max_open_conns: 8, river_conns: 4, fanout_conns: 3}": "database.max_open_conns",
		"database: {river_conns: 1}":                                     "database.river_conns",
		"database: {writers: 10}":                                        "database.writers",
		"database: {writers: -1}":                                        "database.writers",
		"alerts: {batch_lease: 10s}":                                     "alerts.batch_lease",
		"alerts: {stall_after: 10ms}":                                    "alerts.stall_after",
	} {
		_, err := Parse([]byte("comuni: [{id: a, name: A}]\n" + yml))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v does not name %q", yml, err, key)
		}
	}
}
