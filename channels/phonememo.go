package channels

import "sync"

// PhoneMemo remembers what NormalizePhoneOrRaw made of the numbers it saw last, so a number
// met again (the centre's own numbers on every webhook, a citizen who writes twice) is not
// parsed again: parsing is regular-expression work, a tenth of the gateway's CPU per
// inbound SMS when measured. It holds at most max numbers and forgets them all when full.
// The zero value is not usable: use NewPhoneMemo. Safe for concurrent use.
type PhoneMemo struct {
	mu  sync.Mutex
	m   map[string]string
	max int
}

// maxMemoKey bounds what the memo keeps a key for: NormalizePhone refuses anything over 40
// characters, so a longer text (a sender field of any size) is only ever normalized, not kept.
const maxMemoKey = 64

// NewPhoneMemo returns a memo of at most max numbers (4,096 when max <= 0).
func NewPhoneMemo(max int) *PhoneMemo {
	if max <= 0 {
		max = 4096
	}
	return &PhoneMemo{m: make(map[string]string, 64), max: max}
}

// NormalizeOrRaw is NormalizePhoneOrRaw, remembered.
func (p *PhoneMemo) NormalizeOrRaw(raw string) string {
	p.mu.Lock()
	n, ok := p.m[raw]
	p.mu.Unlock()
	if ok {
		return n
	}
	n = NormalizePhoneOrRaw(raw)
	if len(raw) > maxMemoKey {
		return n // no number is this long: not worth a place, and the memo stays small
	}
	p.mu.Lock()
	if len(p.m) >= p.max {
		clear(p.m)
	}
	p.m[raw] = n
	p.mu.Unlock()
	return n
}
