package alertstore

import (
	"context"
	"strings"

	"github.com/sportello/sportello/store"
)

// ConsentHistory lists every consent record of a citizen's numbers, newest first, for the
// citizen page. comuni limits it to those comuni (nil: all): their own records, and the STOPs
// (which concern every comune) made since one of them first touched the number, as Consents
// does for one comune. An empty, non-nil comuni sees nothing.
func (s *Store) ConsentHistory(ctx context.Context, phones, comuni []string) ([]Consent, error) {
	if len(phones) == 0 || (comuni != nil && len(comuni) == 0) {
		return nil, nil
	}
	var args []any
	in := func(vs []string) string {
		ph := make([]string, len(vs))
		for i, v := range vs {
			ph[i] = "?"
			args = append(args, v)
		}
		return "(" + strings.Join(ph, ", ") + ")"
	}
	q := `SELECT c.id, c.comune, c.phone, c.action, c.via, c.actor, c.topics, c.detail, c.at FROM subscriber_consents c
		WHERE c.phone IN ` + in(phones)
	if comuni != nil {
		q += ` AND (c.comune IN ` + in(comuni) + ` OR (c.comune = '' AND c.at >= (SELECT MIN(f.at) FROM subscriber_consents f
			WHERE f.phone = c.phone AND f.comune IN ` + in(comuni) + `)))`
	}
	rows, err := s.Query(ctx, q+" ORDER BY c.at DESC, c.id DESC", args...)
	return store.Collect(rows, err, scanConsent)
}
