package gateway

import (
	"context"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/ingest"
)

// addressBook maps the comuni's numbers and addresses to their ids.
type addressBook struct {
	byAddress map[string]string
	names     map[string]string
	shared    map[string]bool
}

func newAddressBook(cfg *config.Config) *addressBook {
	b := &addressBook{byAddress: map[string]string{}, names: map[string]string{}, shared: map[string]bool{}}
	for _, n := range cfg.SharedNumbers {
		b.shared[channels.NormalizePhoneOrRaw(n)] = true
	}
	for _, c := range cfg.Comuni {
		b.names[c.ID] = c.Name
		for _, n := range c.PhoneNumbers {
			b.byAddress[channels.NormalizePhoneOrRaw(n)] = c.ID
		}
		for _, a := range c.EmailAddresses {
			if e, err := channels.NormalizeEmail(a); err == nil {
				b.byAddress[e] = c.ID
			}
		}
	}
	return b
}

// comuneOf is the comune a dialled number or recipient address belongs to ("" if shared/unknown).
func (b *addressBook) comuneOf(addr string) (string, string) {
	id := b.byAddress[addr]
	return id, b.names[id]
}

// basicDecider decides the comune from the address only.
type basicDecider struct{ book *addressBook }

func (d basicDecider) Decide(_ context.Context, in channels.InboundMessage) ingest.Decision {
	id, _ := d.book.comuneOf(in.To)
	return ingest.Decision{Comune: id}
}
