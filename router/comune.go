package router

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
)

// ComuneResolver finds which comune a contact concerns: from the number or address it was sent
// to, else from the comune's name in its text. Build it with NewComuneResolver; it is safe for
// concurrent use.
type ComuneResolver struct {
	byAddress map[string]string
	shared    map[string]bool
	// names indexes the comuni's names by their first word, longest name first.
	names map[string][]comuneName
}

type comuneName struct {
	words  []string
	comune string // "" when two comuni claim the same name: it decides nothing
}

// AddressError is a number or address listed for two comuni.
type AddressError struct {
	Address       string
	Comune, Other string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("router: %s belongs to both comune %q and comune %q", e.Address, e.Other, e.Comune)
}

// NewComuneResolver indexes the comuni's phone numbers, email addresses and names. An address
// listed for two comuni is an error; a name or alias two comuni share is kept but matches neither.
func NewComuneResolver(cfg *config.Config) (*ComuneResolver, error) {
	r := &ComuneResolver{byAddress: map[string]string{}, shared: map[string]bool{}, names: map[string][]comuneName{}}
	for _, n := range cfg.SharedNumbers {
		if e164, err := channels.NormalizePhone(n); err == nil {
			r.shared[e164] = true
		}
		r.shared[n] = true
	}
	claimed := map[string]string{} // folded name -> comune
	for _, cm := range cfg.Comuni {
		for _, raw := range cm.PhoneNumbers {
			if err := r.addAddress(channels.NormalizePhoneOrRaw(raw), cm.ID); err != nil {
				return nil, err
			}
		}
		for _, raw := range cm.EmailAddresses {
			a, err := channels.NormalizeEmail(raw)
			if err != nil {
				a = strings.ToLower(strings.TrimSpace(raw))
			}
			if err := r.addAddress(a, cm.ID); err != nil {
				return nil, err
			}
		}
		for _, name := range comuneNames(cm) {
			key := strings.Join(name, " ")
			switch prev, ok := claimed[key]; {
			case !ok:
				claimed[key] = cm.ID
			case prev != cm.ID:
				claimed[key] = ""
			}
		}
	}
	for key, id := range claimed {
		words := strings.Fields(key)
		r.names[words[0]] = append(r.names[words[0]], comuneName{words: words, comune: id})
	}
	for _, list := range r.names {
		sort.Slice(list, func(i, j int) bool {
			if len(list[i].words) != len(list[j].words) {
				return len(list[i].words) > len(list[j].words)
			}
			return strings.Join(list[i].words, " ") < strings.Join(list[j].words, " ")
		})
	}
	return r, nil
}

func (r *ComuneResolver) addAddress(a, comune string) error {
	if a == "" {
		return nil
	}
	if prev, ok := r.byAddress[a]; ok && prev != comune {
		return &AddressError{Address: a, Comune: comune, Other: prev}
	}
	r.byAddress[a] = comune
	return nil
}

// comuneNames are the ways a comune is written, folded into words: its name without "Comune di",
// its id with dashes as spaces, its aliases.
func comuneNames(cm config.Comune) [][]string {
	var out [][]string
	add := func(s string) {
		t := tokenize(s)
		words := make([]string, 0, t.len())
		for i := 0; i < t.len(); i++ {
			words = append(words, t.str(i))
		}
		if len(words) >= 2 && words[0] == "comune" && (words[1] == "di" || words[1] == "of") {
			words = words[2:]
		}
		if len(words) > 0 {
			out = append(out, words)
		}
	}
	add(cm.Name)
	add(strings.ReplaceAll(cm.ID, "-", " "))
	for _, a := range cm.Aliases {
		add(a)
	}
	return out
}

// ByAddress is the comune a contact was sent to: to is the number dialled or texted (any form
// NormalizePhone reads, E.164 included) or the recipient's email address. A shared number decides
// nothing and says so; an unknown one gives "".
func (r *ComuneResolver) ByAddress(to string) (comune string, shared bool) {
	to = strings.TrimSpace(to)
	if to == "" {
		return "", false
	}
	// Most addresses arrive already in the form the maps hold (E.164 from providers), and
	// normalizing is idempotent on that form: skip the parse.
	if r.shared[to] {
		return "", true
	}
	if c, ok := r.byAddress[to]; ok {
		return c, false
	}
	var key string
	if strings.Contains(to, "@") && !strings.HasPrefix(to, "sip:") {
		a, err := channels.NormalizeEmail(to)
		if err != nil {
			return "", false
		}
		key = a
	} else {
		key = channels.NormalizePhoneOrRaw(to)
	}
	if r.shared[key] {
		return "", true
	}
	return r.byAddress[key], false
}

// InText is the comune a text names, or "": its name, id or an alias, folded for case and accents
// and matched as whole words. Where names overlap the longest wins ("Sesto Fiorentino" over
// "Sesto"), and the first name in the text decides.
func (r *ComuneResolver) InText(text string) string {
	if len(text) > MaxClassifyBytes {
		text = text[:MaxClassifyBytes]
	}
	t := tokenize(text)
	for i := 0; i < t.len(); i++ {
	names:
		for _, n := range r.names[string(t.at(i))] {
			if i+len(n.words) > t.len() {
				continue
			}
			for k := 1; k < len(n.words); k++ {
				if string(t.at(i+k)) != n.words[k] {
					continue names
				}
			}
			if n.comune != "" {
				return n.comune
			}
			break // an ambiguous name: shorter names inside it are not a clue either
		}
	}
	return ""
}
