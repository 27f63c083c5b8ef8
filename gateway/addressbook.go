package gateway

import (
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
)

// addressBook maps the comuni's numbers and addresses to their ids.
type addressBook struct {
	byAddress map[string]string
	names     map[string]string
}

func newAddressBook(cfg *config.Config) *addressBook {
	b := &addressBook{byAddress: map[string]string{}, names: map[string]string{}}
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
