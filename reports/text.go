package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteText prints the summary as the seed's table: volumes by channel and comune, outcome
// shares, category mix, average talk and wait, service level.
func WriteText(w io.Writer, s Summary) error {
	scope := "all comuni"
	if s.Comune != nil {
		scope = *s.Comune
	}
	tw := &lineWriter{w: w}
	_, tw.err = fmt.Fprintf(w, "Sportello report %s .. %s (%s)\n\n", s.From, s.To, scope)
	total := s.Contacts.Total
	section := func(title string, counts map[string]int64, order []string) {
		tw.line(title, "", "")
		for _, k := range orderedKeys(counts, order) {
			tw.line("  "+k, fmt.Sprint(counts[k]), percent(counts[k], total))
		}
		tw.line("", "", "")
	}
	tw.line("Contacts", fmt.Sprint(total), "")
	tw.line("", "", "")
	section("By channel", s.Contacts.ByChannel, Channels)
	section("By comune", s.Contacts.ByComune, nil)
	section("Outcomes", s.Outcomes, Outcomes)
	section("Categories", s.Contacts.ByCategory, nil)
	c := s.Calls
	tw.line("Calls offered", fmt.Sprint(c.Offered), "")
	tw.line("  answered", fmt.Sprint(c.Answered), percent(c.Answered, c.Offered))
	tw.line("  abandoned", fmt.Sprint(c.Abandoned), percent(c.Abandoned, c.Offered))
	tw.line("  average wait", fmt.Sprintf("%.1f s", c.AvgWaitSeconds), "")
	tw.line("  average talk", fmt.Sprintf("%.1f s", c.AvgTalkSeconds), "")
	tw.line("  service level", fmt.Sprintf("%.1f %%", c.ServiceLevel*100), fmt.Sprintf("within %d s", c.TargetSeconds))
	if s.FirstResponse.Median != nil {
		tw.line("First response", fmt.Sprintf("%d s", *s.FirstResponse.Median), "median")
		tw.line("", fmt.Sprintf("%d s", *s.FirstResponse.P90), "90th percentile")
	}
	return tw.err
}

// lineWriter prints label, value and share columns, keeping the first error.
type lineWriter struct {
	w   io.Writer
	err error
}

func (l *lineWriter) line(label, value, share string) {
	if l.err != nil {
		return
	}
	if label == "" && value == "" {
		_, l.err = fmt.Fprintln(l.w)
		return
	}
	_, l.err = fmt.Fprintln(l.w, strings.TrimRight(fmt.Sprintf("%-24s %10s  %s", label, value, share), " "))
}

// orderedKeys lists the keys of counts: those of order first, in that order, then the others
// by count, largest first.
func orderedKeys(counts map[string]int64, order []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := counts[k]; ok {
			out = append(out, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range counts {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		if counts[rest[i]] != counts[rest[j]] {
			return counts[rest[i]] > counts[rest[j]]
		}
		return rest[i] < rest[j]
	})
	return append(out, rest...)
}

func percent(n, of int64) string {
	if of == 0 {
		return "-"
	}
	return strings.TrimSpace(fmt.Sprintf("%.2f %%", float64(n)*100/float64(of)))
}
