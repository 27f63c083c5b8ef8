package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/sportello/sportello/adapters/appio"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/store"
)

// wireAppIO builds the App IO client when a comune has a service key: it sends operators'
// replies (channels.AppIO) and the alerts that name "app_io", and a background loop asks App
// IO which replies were processed.
func (g *Gateway) wireAppIO(ctx context.Context) error {
	cfg := g.Config
	if !cfg.AppIOEnabled() {
		return nil
	}
	keys := map[string]string{}
	for _, cm := range cfg.Comuni {
		if cm.AppIO.APIKey != "" {
			keys[cm.ID] = cm.AppIO.APIKey
		}
	}
	c, err := appio.New(appio.Options{BaseURL: cfg.AppIO.BaseURL, Keys: keys, Timeout: cfg.AppIO.Timeout,
		MaxRetryAfter: cfg.AppIO.MaxRetryAfter, Logger: g.Log.With("part", "appio")})
	if err != nil {
		return fmt.Errorf("app_io: %w", err)
	}
	g.Senders[channels.AppIO] = c
	g.services = append(g.services, service{name: "app_io replies", run: func(ctx context.Context) error {
		return g.pollAppIOReplies(ctx, c, cfg.AppIO.StatusEvery)
	}})
	return nil
}

// appIOClient is the App IO client wireAppIO built, or nil.
func (g *Gateway) appIOClient() channels.AppIOClient {
	c, _ := g.Senders[channels.AppIO].(channels.AppIOClient)
	return c
}

// pollAppIOReplies asks App IO, every `every`, about operators' messages it accepted and has
// not processed yet; PROCESSED makes them delivered, REJECTED failed.
func (g *Gateway) pollAppIOReplies(ctx context.Context, c channels.AppIOClient, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := g.appIORepliesOnce(ctx, c, every); err != nil && ctx.Err() == nil {
			g.Log.Warn("asking App IO about replies failed; retrying later", "err", err)
		}
	}
}

func (g *Gateway) appIORepliesOnce(ctx context.Context, c channels.AppIOClient, every time.Duration) error {
	list, err := g.Store.SentAppIOMessages(ctx, time.Now().Add(-every), 200)
	if err != nil {
		return err
	}
	for _, m := range list {
		st, err := c.IOStatus(ctx, m.Comune, m.FiscalCode, m.ExternalID)
		if err != nil {
			return err
		}
		switch st {
		case channels.AppIOProcessed:
			err = g.Desk.UpdateDelivery(ctx, channels.DeliveryUpdate{Channel: channels.AppIO, ExternalID: m.ExternalID, Status: store.OutDelivered})
		case channels.AppIORejected:
			err = g.Desk.UpdateDelivery(ctx, channels.DeliveryUpdate{Channel: channels.AppIO, ExternalID: m.ExternalID, Status: store.OutFailed, ErrorCode: "REJECTED"})
		default:
			err = g.Store.TouchOutbound(ctx, m.ID)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
