package store

import "testing"

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(1764230400000000, "01a21acb-75d4-7c71-ace3-fe96a19d8da3"))
	f.Add("")
	f.Add("zzz")
	f.Add("MTIzfA")
	f.Fuzz(func(t *testing.T, c string) {
		at, id, err := decodeCursor(c)
		if err != nil {
			return
		}
		if id == "" {
			t.Fatalf("decodeCursor(%q) gave an empty id", c)
		}
		if _, _, err := decodeCursor(encodeCursor(at, id)); err != nil {
			t.Fatalf("re-encoding %d|%q: %v", at, id, err)
		}
	})
}
