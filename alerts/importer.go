package alerts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store/alertstore"
)

// ImportReport says what an import did with each row of the file.
type ImportReport struct {
	Rows       int `json:"rows"`
	Imported   int `json:"imported"`
	OptedOut   int `json:"skipped_stop"`
	Invalid    int `json:"skipped_invalid"`
	NotMobile  int `json:"skipped_not_mobile"`
	Duplicates int `json:"skipped_duplicate"`
	// Examples holds a few rejected rows (line: reason) to show the operator.
	Examples []string `json:"examples,omitempty"`
}

// phoneColumns are the header names taken as the phone column (the contract's is "phone").
var phoneColumns = []string{"phone", "telefono", "cellulare", "mobile", "numero", "phone_number", "msisdn"}

var langColumns = []string{"lang", "lingua", "language"}

const maxExamples = 10

// ImportCSV imports already-consenting subscribers of a comune from a CSV file with a phone
// column (comma or semicolon separated, header first): valid mobile numbers become confirmed
// subscriptions with the given topics; numbers that said STOP, invalid numbers, landlines and
// repeated rows are skipped and counted. A lang column (it, en) is honoured. actor names the
// source in each consent record.
func (s *Service) ImportCSV(ctx context.Context, r io.Reader, comune string, topics []string, actor string) (ImportReport, error) {
	var rep ImportReport
	if _, ok := s.comuni[comune]; !ok {
		return rep, notFound("comune %q not found", comune)
	}
	topics, err := s.Topics(comune, topics)
	if err != nil {
		return rep, err
	}
	raws, err := readImportFile(r, &rep)
	if err != nil {
		return rep, err
	}
	// Parsing numbers is the slow part: it is spread over the cores, and each chunk is parsed
	// while the one before is being written.
	type parsed struct {
		phone  string
		bad    bool
		mobile bool
	}
	parse := func(part []importLine) []parsed {
		out := make([]parsed, len(part))
		workers := runtime.GOMAXPROCS(0)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < len(part); i += workers {
					p, mobile, err := channels.NormalizeMobile(part[i].phone)
					out[i] = parsed{phone: p, bad: err != nil, mobile: mobile}
				}
			}(w)
		}
		wg.Wait()
		return out
	}
	const chunk = 20000
	by := alertstore.ConsentActor{Via: alertstore.ViaImport, Actor: actor}
	seen := make(map[string]bool, len(raws))
	next := make(chan []parsed, 1)
	go func() {
		for i := 0; i < len(raws); i += chunk {
			next <- parse(raws[i:min(i+chunk, len(raws))])
		}
		close(next)
	}()
	defer func() {
		for range next { // let the parser finish if storing failed
		}
	}()
	base := 0
	for out := range next {
		rows := make([]alertstore.ImportRow, 0, len(out))
		for i, p := range out {
			r := raws[base+i]
			switch {
			case p.bad:
				rep.Invalid++
				rep.example(fmt.Sprintf("line %d: %q is not a phone number", r.line, r.phone))
			case !p.mobile:
				rep.NotMobile++
				rep.example(fmt.Sprintf("line %d: %s is not a mobile number", r.line, p.phone))
			case seen[p.phone]:
				rep.Duplicates++
			default:
				seen[p.phone] = true
				rows = append(rows, alertstore.ImportRow{Phone: p.phone, Lang: r.lang})
			}
		}
		base += len(out)
		res, err := s.as.ImportSubscribers(ctx, comune, rows, topics, by)
		rep.Imported += res.Imported
		rep.OptedOut += res.OptedOut
		if err != nil {
			return rep, err
		}
	}
	if rep.Imported >= 10000 {
		if err := s.as.RefreshAudienceStats(ctx); err != nil {
			s.o.Logger.Warn("refreshing the subscribers' statistics after an import failed; autovacuum will", "err", err)
		}
	}
	return rep, nil
}

// importLine is a data row of an import file: its line, phone field and language.
type importLine struct {
	line  int
	phone string
	lang  string
}

// readImportFile reads an import file's header and rows (comma or semicolon separated): the
// phone column's field and the language of each row, counting in rep the rows read and those
// without a phone field.
func readImportFile(r io.Reader, rep *ImportReport) ([]importLine, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffSeparator(head)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, invalid("empty_file", "the file is empty")
	}
	if err != nil {
		return nil, invalid("invalid_csv", "the header cannot be read: %v", err)
	}
	phoneCol, langCol := -1, -1
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		for _, want := range phoneColumns {
			if h == want && phoneCol < 0 {
				phoneCol = i
			}
		}
		for _, want := range langColumns {
			if h == want && langCol < 0 {
				langCol = i
			}
		}
	}
	if phoneCol < 0 {
		return nil, invalid("missing_phone_column", "no phone column in the header %q", strings.Join(header, string(cr.Comma)))
	}
	var raws []importLine
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalid("invalid_csv", "%v", err)
		}
		line, _ := cr.FieldPos(0)
		rep.Rows++
		if phoneCol >= len(rec) {
			rep.Invalid++
			rep.example(fmt.Sprintf("line %d: no phone field", line))
			continue
		}
		lang := "it"
		if langCol >= 0 && langCol < len(rec) && strings.HasPrefix(strings.ToLower(strings.TrimSpace(rec[langCol])), "en") {
			lang = "en"
		}
		raws = append(raws, importLine{line: line, phone: rec[phoneCol], lang: lang})
	}
	return raws, nil
}

func (r *ImportReport) example(s string) {
	if len(r.Examples) < maxExamples {
		r.Examples = append(r.Examples, s)
	}
}

// sniffSeparator picks ';' (Italian spreadsheets) or ',' from the header line.
func sniffSeparator(head []byte) rune {
	line := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		line = head[:i]
	}
	if bytes.Count(line, []byte{';'}) > bytes.Count(line, []byte{','}) {
		return ';'
	}
	return ','
}
