package gateway

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRoutineLogsGoToDebug(t *testing.T) {
	var buf bytes.Buffer
	info := routineToDebug(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	info.With("client_id", "x").Info("JobCleaner: Ran successfully")
	info.Warn("elector: lost leadership")
	out := buf.String()
	if strings.Contains(out, "Ran successfully") || !strings.Contains(out, "level=WARN") {
		t.Fatalf("at level info:\n%s", out)
	}
	buf.Reset()
	debug := routineToDebug(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	debug.WithGroup("river").Info("JobCleaner: Ran successfully")
	if !strings.Contains(buf.String(), "level=DEBUG") || !strings.Contains(buf.String(), "Ran successfully") {
		t.Fatalf("at level debug:\n%s", buf.String())
	}
}
