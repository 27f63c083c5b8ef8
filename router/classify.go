package router

import (
	"fmt"
	"strings"
	"sync"

	"github.com/sportello/sportello/config"
)

// FallbackCategory is what Classify answers when no keyword matches and no category is
// keyword-less.
const FallbackCategory = "altro"

// MaxClassifyBytes bounds how much of a text Classify reads: what a citizen asks is at the top,
// and a long email's quoted thread must not outvote it (nor cost time).
const MaxClassifyBytes = 32 << 10

// CategoryError is a category that cannot be compiled into a Classifier.
type CategoryError struct {
	Category string
	Keyword  string
	Reason   string
}

func (e *CategoryError) Error() string {
	if e.Keyword == "" {
		return fmt.Sprintf("router: category %q: %s", e.Category, e.Reason)
	}
	return fmt.Sprintf("router: category %q: keyword %q: %s", e.Category, e.Keyword, e.Reason)
}

// Classifier assigns a category to a message by its Italian keywords. Build it once with
// NewClassifier; it is safe for concurrent use.
type Classifier struct {
	ids      []string
	fallback string
	keywords []keyword
	// byWord indexes keywords by their first word when it is a whole word; byPrefix[n] by the
	// first n bytes when that word ends in *. prefixLens lists the n in use.
	byWord     map[string][]int
	byPrefix   map[int]map[string][]int
	prefixLens []int
	// prefixes is byPrefix in the order of prefixLens, for the loop over every word.
	prefixes []map[string][]int
	// starts1, starts2 and starts3 have a bit for how every keyword's first word begins: its
	// only byte, its two bytes, or (hashed) its first three. Most words of a text begin no
	// keyword, and this test spares them every map lookup (two thirds of the time of an email).
	starts1 [256 / 64]uint64
	starts2 [1 << 16 / 64]uint64
	starts3 [1 << 16 / 64]uint64
	// scratch keeps *tokens for reuse: a 3 KB email's folded text and word spans were 9 KB
	// of garbage a message.
	scratch sync.Pool
}

type keyword struct {
	category int
	words    []pattern
}

type pattern struct {
	text   string
	prefix bool
}

func (p pattern) matches(w []byte) bool {
	if p.prefix {
		return len(w) >= len(p.text) && string(w[:len(p.text)]) == p.text
	}
	return string(w) == p.text
}

// NewClassifier compiles categories' keyword rules. A keyword matches a word of the text with
// case and accents folded; a word ending in * matches any ending ("mult*" matches multa, multe,
// multato); a keyword of several words matches them in that order, skipping articles and
// prepositions on both sides ("divieto di circolazione" matches "divieto circolazione" and
// "divieto della circolazione"). A category without keywords never matches: the last such one is
// the answer when nothing else does, else FallbackCategory.
func NewClassifier(cats []config.Category) (*Classifier, error) {
	c := &Classifier{
		fallback: FallbackCategory,
		byWord:   map[string][]int{},
		byPrefix: map[int]map[string][]int{},
	}
	seen := map[string]bool{}
	for ci, cat := range cats {
		if cat.ID == "" {
			return nil, &CategoryError{Category: fmt.Sprintf("#%d", ci), Reason: "has no id"}
		}
		if seen[cat.ID] {
			return nil, &CategoryError{Category: cat.ID, Reason: "is listed twice"}
		}
		seen[cat.ID] = true
		c.ids = append(c.ids, cat.ID)
		if len(cat.Keywords) == 0 {
			c.fallback = cat.ID
		}
		for _, raw := range cat.Keywords {
			words, err := compileKeyword(raw)
			if err != nil {
				return nil, &CategoryError{Category: cat.ID, Keyword: raw, Reason: err.Error()}
			}
			c.add(keyword{category: ci, words: words})
		}
	}
	return c, nil
}

func compileKeyword(raw string) ([]pattern, error) {
	var words []pattern
	for _, field := range strings.Fields(raw) {
		prefix := strings.HasSuffix(field, "*")
		stem := strings.TrimSuffix(field, "*")
		if strings.Contains(stem, "*") {
			return nil, fmt.Errorf("* may only end a word")
		}
		t := tokenize(stem)
		if t.len() == 0 {
			if prefix {
				return nil, fmt.Errorf("* needs a word before it")
			}
			continue // punctuation standing alone
		}
		for i := 0; i < t.len(); i++ {
			// Only the last piece of "d'identit*" keeps the *: the others are whole words.
			words = append(words, pattern{text: t.str(i), prefix: prefix && i == t.len()-1})
		}
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("has no letters or digits")
	}
	var kept []pattern
	for _, w := range words {
		if w.prefix || !stopwords[w.text] {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 {
		// A keyword made only of stopwords ("in") is meant literally.
		return words, nil
	}
	return kept, nil
}

func (c *Classifier) add(k keyword) {
	idx := len(c.keywords)
	c.keywords = append(c.keywords, k)
	first := k.words[0]
	switch w := first.text; len(w) {
	case 1:
		setBit(c.starts1[:], uint16(w[0]))
	case 2:
		setBit(c.starts2[:], begin2(w))
	default:
		setBit(c.starts3[:], begin3(w))
	}
	if !first.prefix {
		c.byWord[first.text] = append(c.byWord[first.text], idx)
		return
	}
	n := len(first.text)
	m, ok := c.byPrefix[n]
	if !ok {
		m = map[string][]int{}
		c.byPrefix[n] = m
		c.prefixLens = append(c.prefixLens, n)
		c.prefixes = append(c.prefixes, m)
	}
	m[first.text] = append(m[first.text], idx)
}

// Classify returns the id of the category with the most keyword hits in text; ties go to the
// category listed first. At each word the longest matching keyword wins and its words are not
// counted again, so "zona a traffico limitato" is one hit for the ZTL and none for "traffico".
func (c *Classifier) Classify(text string) string {
	var small [16]int
	var scores []int
	if len(c.ids) <= len(small) {
		scores = small[:len(c.ids)]
	} else {
		scores = make([]int, len(c.ids))
	}
	c.score(text, scores)
	winner, top := -1, 0
	for ci, s := range scores {
		if s > top {
			winner, top = ci, s
		}
	}
	if winner < 0 {
		return c.fallback
	}
	return c.ids[winner]
}

// score adds each category's keyword hits in text to scores (indexed like c.ids).
func (c *Classifier) score(text string, scores []int) {
	if len(text) > MaxClassifyBytes {
		text = text[:MaxClassifyBytes]
	}
	t, _ := c.scratch.Get().(*tokens)
	if t == nil {
		t = new(tokens)
	}
	defer c.scratch.Put(t)
	t.reset(text)
	var hitSmall [8]int
	for i := 0; i < t.len(); {
		best, hits := 0, hitSmall[:0]
		try := func(candidates []int) {
			for _, k := range candidates {
				n := c.matchAt(t, i, c.keywords[k].words)
				switch {
				case n == 0 || n < best:
				case n > best:
					best, hits = n, append(hits[:0], c.keywords[k].category)
				default:
					hits = append(hits, c.keywords[k].category)
				}
			}
		}
		w := t.at(i)
		if c.mayStart(w) {
			try(c.byWord[string(w)])
			for pi, n := range c.prefixLens {
				if len(w) >= n {
					try(c.prefixes[pi][string(w[:n])])
				}
			}
		}
		if best == 0 {
			i++
			continue
		}
		for j, cat := range hits {
			if !containsInt(hits[:j], cat) { // one hit per category at one place
				scores[cat]++
			}
		}
		i += best
	}
}

// mayStart reports whether some keyword's first word can match w (never false when one can).
// A keyword's first word, whole or a prefix, shares its first two bytes with every word it
// matches, or its only byte.
func (c *Classifier) mayStart(w []byte) bool {
	return hasBit(c.starts1[:], uint16(w[0])) ||
		(len(w) >= 2 && hasBit(c.starts2[:], begin2(w))) ||
		(len(w) >= 3 && hasBit(c.starts3[:], begin3(w)))
}

func begin2[T string | []byte](w T) uint16 { return uint16(w[0])<<8 | uint16(w[1]) }

// begin3 hashes the first three bytes into 16 bits (a collision only costs a lookup).
func begin3[T string | []byte](w T) uint16 {
	return uint16((uint32(w[0])*961 + uint32(w[1])*31 + uint32(w[2])) * 2654435761 >> 16)
}

func setBit(bits []uint64, i uint16)      { bits[i>>6] |= 1 << (i & 63) }
func hasBit(bits []uint64, i uint16) bool { return bits[i>>6]&(1<<(i&63)) != 0 }

// matchAt reports how many words of t, from i, the keyword's words cover (0 = no match).
func (c *Classifier) matchAt(t *tokens, i int, words []pattern) int {
	if !words[0].matches(t.at(i)) {
		return 0
	}
	j := i + 1
	for _, p := range words[1:] {
		gap := 0
		for j < t.len() && gap < maxStopwordGap && !p.matches(t.at(j)) && stopwords[string(t.at(j))] {
			j++
			gap++
		}
		if j >= t.len() || !p.matches(t.at(j)) {
			return 0
		}
		j++
	}
	return j - i
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
