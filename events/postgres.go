package events

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel is the PostgreSQL notification channel Sportello's replicas share.
const Channel = "sportello_events"

// Notifier publishes through PostgreSQL NOTIFY; every replica's Listener (this one's included)
// delivers the event to its local hub.
type Notifier struct {
	DB *sql.DB
}

// Publish sends e to every replica.
func (n *Notifier) Publish(ctx context.Context, e Event) error {
	_, err := n.DB.ExecContext(ctx, "SELECT pg_notify($1, $2)", Channel, encode(e))
	return err
}

// Listen keeps a dedicated connection listening and delivers notifications to hub until ctx
// ends, reconnecting with backoff.
func Listen(ctx context.Context, url string, hub *Hub, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, hub, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		log.Warn("event listener lost its connection", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 10*time.Second {
			backoff *= 2
		}
	}
}

func listenOnce(ctx context.Context, url string, hub *Hub, connected func()) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }() // only listened on: nothing to lose
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if e, err := decode(n.Payload); err == nil {
			hub.Deliver(e)
		}
	}
}
