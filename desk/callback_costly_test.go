package desk_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/desk"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// countingConnector counts the callbacks it is asked to place.
type countingConnector struct {
	recordingConnector
	placed []string
}

func (c *countingConnector) CallBack(_ context.Context, _, _, _, citizen, _ string) (string, error) {
	c.placed = append(c.placed, citizen)
	return "CA" + nextSid("cb"), nil
}

// A caller id is the caller's to forge: a callback to a premium-rate or shared-cost number
// would be a paid call to the forger's line, placed by an operator's click.
func TestCallBackRefusesCostlyNumbers(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	f := newFixture(t, s)
	calls := &countingConnector{}
	f.d.SetCallConnector(calls)
	op := f.user("op", store.RoleOperator)
	ctx := context.Background()
	for _, tc := range []struct {
		from   string
		placed bool
	}{{"+39899123456", false}, {"+39848123456", false}, {"+449098790123", false}, {"+393471234567", true}} {
		r, err := f.in.Receive(ctx, channels.InboundMessage{Channel: channels.Phone, ExternalID: "CA" + nextSid("x"), From: tc.from, To: "+390552768000"})
		if err != nil {
			t.Fatal(err)
		}
		before := len(calls.placed)
		_, err = f.d.CallBack(ctx, op, r.ContactID)
		var de *desk.Error
		switch {
		case tc.placed && err != nil:
			t.Fatalf("%s: %v", tc.from, err)
		case !tc.placed && (!errors.As(err, &de) || de.Code != "costly_number"):
			t.Fatalf("%s: %v, want costly_number", tc.from, err)
		}
		if placed := len(calls.placed) > before; placed != tc.placed {
			t.Fatalf("%s: call placed %v, want %v", tc.from, placed, tc.placed)
		}
	}
}
