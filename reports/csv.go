package reports

import (
	"context"
	"database/sql"
	"encoding/csv"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/reportstore"
)

// CSVHeader is the contacts export's header row (contract section 7).
var CSVHeader = []string{"id", "received_at", "channel", "comune", "category", "queue", "status", "outcome", "office",
	"wait_seconds", "talk_seconds", "first_response_seconds", "resolved_at"}

// WriteCSV writes one row per contact of q, oldest first, after the header row. Times are RFC
// 3339 in the configured time zone; empty cells are unknown or not applicable; every cell comes
// from the configuration or the system (ids, names of channels, comuni, categories, queues and
// offices), never from a citizen's text.
func (s *Service) WriteCSV(ctx context.Context, q Query, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	rec := make([]string, len(CSVHeader))
	err := s.store.EachRow(ctx, s.filter(q), func(r reportstore.Row) error {
		rec[0] = r.ID
		rec[1] = s.timeCell(r.ReceivedAt)
		rec[2] = r.Channel
		rec[3] = r.Comune.String
		rec[4] = r.Category.String
		rec[5] = r.Queue.String
		rec[6] = r.Status
		rec[7] = r.Outcome.String
		rec[8] = r.Office.String
		rec[9] = intCell(r.WaitSeconds)
		rec[10] = intCell(r.TalkSeconds)
		rec[11] = ""
		if r.FirstOutbound.Valid {
			rec[11] = strconv.FormatInt(int64(math.Round(float64(max(r.FirstOutbound.Int64-r.ReceivedAt, 0))/1e6)), 10)
		}
		rec[12] = ""
		if r.ResolvedAt.Valid {
			rec[12] = s.timeCell(r.ResolvedAt.Int64)
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func (s *Service) timeCell(micros int64) string {
	return store.FromMicros(micros).In(s.cfg.Location).Format(time.RFC3339)
}

func intCell(v sql.NullInt64) string {
	if !v.Valid {
		return ""
	}
	return strconv.FormatInt(v.Int64, 10)
}
