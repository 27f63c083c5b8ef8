package store_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

func TestIMAPStateMovesForwardAndResetsOnNewValidity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		v, u, err := s.IMAPState(ctx, "firenze|imap.example:993|urp|INBOX")
		if err != nil || v != 0 || u != 0 {
			t.Fatalf("unknown mailbox: %d %d %v", v, u, err)
		}
		steps := []struct {
			validity, uid         uint32
			wantValidity, wantUID uint32
		}{
			{7, 10, 7, 10},
			{7, 12, 7, 12},
			{7, 11, 7, 12}, // a late writer cannot rewind
			{9, 0, 9, 0},   // a new UIDVALIDITY starts over
			{9, 3, 9, 3},   //
			{4294967295, 4294967295, 4294967295, 4294967295}, // UIDs are unsigned 32-bit
		}
		for i, st := range steps {
			if err := s.SaveIMAPState(ctx, "firenze|imap.example:993|urp|INBOX", st.validity, st.uid); err != nil {
				t.Fatal(err)
			}
			v, u, err := s.IMAPState(ctx, "firenze|imap.example:993|urp|INBOX")
			if err != nil || v != st.wantValidity || u != st.wantUID {
				t.Fatalf("step %d: got (%d, %d, %v), want (%d, %d)", i, v, u, err, st.wantValidity, st.wantUID)
			}
		}
		if v, u, _ := s.IMAPState(ctx, "empoli|imap.example:993|urp|INBOX"); v != 0 || u != 0 {
			t.Fatalf("mailboxes are separate: %d %d", v, u)
		}
	})
}
