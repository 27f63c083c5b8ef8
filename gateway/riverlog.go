package gateway

import (
	"context"
	"log/slog"
)

// routineToDebug makes a library's INFO records DEBUG: River reports every maintenance run
// ("Ran successfully") and every start and stop at INFO, which buries the gateway's own lines at
// the default level. Warnings and errors pass unchanged.
func routineToDebug(l *slog.Logger) *slog.Logger {
	return slog.New(&demoteInfo{h: l.Handler()})
}

type demoteInfo struct{ h slog.Handler }

func demote(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelDebug
	}
	return l
}

func (d *demoteInfo) Enabled(ctx context.Context, l slog.Level) bool {
	return d.h.Enabled(ctx, demote(l))
}

func (d *demoteInfo) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return d.h.Handle(ctx, r)
}

func (d *demoteInfo) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &demoteInfo{h: d.h.WithAttrs(attrs)}
}

func (d *demoteInfo) WithGroup(name string) slog.Handler { return &demoteInfo{h: d.h.WithGroup(name)} }
