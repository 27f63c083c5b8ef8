package cti

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimestampForms(t *testing.T) {
	now := time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", now, false},
		{"2026-02-03T09:59:30+01:00", time.Date(2026, 2, 3, 8, 59, 30, 0, time.UTC), false},
		{"1770109170", time.Unix(1770109170, 0).UTC(), false},
		{"1770109170.5", time.Unix(1770109170, 500_000_000).UTC(), false},
		{"yesterday", time.Time{}, true},
		{"-5", time.Time{}, true},
		{"NaN", time.Time{}, true},
		{"2026-02-03T10:00:00Z", time.Time{}, true}, // an hour ahead of our clock
	}
	for _, c := range cases {
		got, err := Timestamp(c.in).Time(now)
		if (err != nil) != c.wantErr || (!c.wantErr && !got.Equal(c.want)) {
			t.Errorf("%q: %v %v, want %v (error %v)", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestTimestampFromJSONStringOrNumber(t *testing.T) {
	for body, want := range map[string]Timestamp{
		`{"timestamp": 1770109170}`:             "1770109170",
		`{"timestamp": "2026-02-03T09:00:00Z"}`: "2026-02-03T09:00:00Z",
		`{"timestamp": null}`:                   "",
		`{}`:                                    "",
	} {
		var ev Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil || ev.Timestamp != want {
			t.Errorf("%s: %q %v, want %q", body, ev.Timestamp, err, want)
		}
	}
	var ev Event
	if err := json.Unmarshal([]byte(`{"timestamp": true}`), &ev); err == nil {
		t.Error("a boolean timestamp was accepted")
	}
}
