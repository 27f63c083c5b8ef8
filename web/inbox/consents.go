package inbox

import (
	"context"
	"strings"
	"time"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// consentRow is one change of a citizen's consent to a comune's alerts, for the citizen page.
type consentRow struct {
	At time.Time
	// Comune is the comune's name; "" for a STOP, which ends every comune's subscription.
	Comune string
	Phone  string
	Action string
	Topics string
	// Via is how it arrived (sms, api, import, carrier, page), Actor who or what made it.
	Via, Actor, Detail string
}

// consents reads the consent history of the citizen's numbers (not their email addresses,
// which never subscribe), limited to the user's comuni.
func (in *Inbox) consents(ctx context.Context, cz channels.Citizen, sc store.Scope) ([]consentRow, error) {
	var phones []string
	for _, id := range cz.Identities {
		if id.Kind != channels.IdentityEmail {
			phones = append(phones, id.Value)
		}
	}
	cs, err := alertstore.New(in.o.Store).ConsentHistory(ctx, phones, sc.Comuni)
	if err != nil {
		return nil, err
	}
	out := make([]consentRow, len(cs))
	for i, c := range cs {
		out[i] = consentRow{At: c.At, Phone: c.Phone, Action: c.Action, Topics: strings.Join(c.Topics, ", "),
			Via: c.Via, Actor: c.Actor, Detail: c.Detail}
		if c.Comune != "" {
			out[i].Comune = lookup(in.names.comuni, &c.Comune)
		}
	}
	return out, nil
}
