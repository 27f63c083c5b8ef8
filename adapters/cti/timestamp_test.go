package cti

import (
	"encoding/json"
	"errors"
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
		{"2026-02-02T09:00:01Z", time.Date(2026, 2, 2, 9, 0, 1, 0, time.UTC), false},        // a queue replayed within the day
		{"2025-10-20T09:00:00+02:00", time.Date(2025, 10, 20, 7, 0, 0, 0, time.UTC), false}, // a past day replayed (simulate)
		{"yesterday", time.Time{}, true},
		{"-5", time.Time{}, true},
		{"NaN", time.Time{}, true},
	}
	for _, c := range cases {
		got, err := Timestamp(c.in).Time(now)
		if (err != nil) != c.wantErr || (!c.wantErr && !got.Equal(c.want)) {
			t.Errorf("%q: %v %v, want %v (error %v)", c.in, got, err, c.want, c.wantErr)
		}
	}
}

// A timestamp no PBX sends is refused as out of bounds: ahead of our clock by more than the
// skew allowed, or before 2000 (a clock reset to the epoch).
func TestTimestampOutOfBoundsRefused(t *testing.T) {
	now := time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)
	for _, in := range []string{
		"2026-02-03T10:00:00Z", // an hour ahead
		"1",                    // the epoch
		"1999-12-31T23:59:59Z", // the last second before the floor
	} {
		if at, err := Timestamp(in).Time(now); !errors.Is(err, ErrTimestampOutOfBounds) {
			t.Errorf("%q: %v %v, want ErrTimestampOutOfBounds", in, at, err)
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
