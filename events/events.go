// Package events carries live changes (a new or changed contact, an alert's progress) from
// where they happen to whoever listens (the inbox's Server-Sent Events). Writers publish after
// their data is committed; the store never calls it. On PostgreSQL, a Notifier relays every
// event through LISTEN/NOTIFY so each replica's clients see changes made on any replica.
package events

import (
	"context"
	"encoding/json"
	"sync"
)

// Event types.
const (
	ContactCreated = "contact.created"
	ContactUpdated = "contact.updated"
	ContactSLA     = "contact.sla"
	AlertProgress  = "alert.progress"
	QueueChanged   = "queue.changed"
	// ScreenPop: User answered the call ContactID (a PBX's CTI answer, a phone leg): their open
	// inbox shows it.
	ScreenPop = "call.screen_pop"
	// UserRevoked: a user's tokens were revoked or the user disabled; their open streams
	// re-check their credentials at once (they also do so every few seconds, for events lost).
	UserRevoked = "user.revoked"
	// CalendarChanged: an admin edited Comune's business hours or holidays; every replica reads
	// the calendars again at once.
	CalendarChanged = "calendar.changed"
)

// Event is small on purpose (NOTIFY payloads are limited): subscribers load what they show.
type Event struct {
	Type      string `json:"type"`
	ContactID string `json:"contact_id,omitempty"`
	AlertID   string `json:"alert_id,omitempty"`
	Comune    string `json:"comune,omitempty"`
	// User is whom the event is for (ScreenPop).
	User   string `json:"user,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

// Publisher is what writers see.
type Publisher interface {
	Publish(ctx context.Context, e Event) error
}

// Hub fans events out to this process's subscribers. A slow subscriber loses events rather
// than slowing the publisher: live views reload on the next event anyway.
type Hub struct {
	mu   sync.RWMutex
	subs map[chan Event]struct{}
}

// NewHub makes an empty hub.
func NewHub() *Hub { return &Hub{subs: map[chan Event]struct{}{}} }

// Publish delivers e to every subscriber of this process.
func (h *Hub) Publish(_ context.Context, e Event) error {
	h.Deliver(e)
	return nil
}

// Deliver hands e to every current subscriber without blocking.
func (h *Hub) Deliver(e Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// Subscribe returns a channel of events and a function that ends the subscription.
func (h *Hub) Subscribe(buffer int) (<-chan Event, func()) {
	ch := make(chan Event, buffer)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, ch)
			h.mu.Unlock()
		})
	}
}

// Subscribers counts current subscribers.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs)
}

func encode(e Event) string {
	b, _ := json.Marshal(e) // an Event of strings always marshals
	return string(b)
}

func decode(payload string) (Event, error) {
	var e Event
	err := json.Unmarshal([]byte(payload), &e)
	return e, err
}
