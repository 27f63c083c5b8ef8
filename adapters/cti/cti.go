// Package cti lets any PBX report calls to Sportello: POST /webhooks/cti with newCall, answer
// and hangup events, as a form or JSON, authenticated by the bearer token of one of the
// configured sources (each PBX its own, optionally bound to the networks it posts from). A
// newCall is answered with the caller's citizen record so the operator's screen can pop it.
package cti

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/jsonbody"
)

// Event is one PBX event.
type Event struct {
	Event     string `json:"event" form:"event"`
	From      string `json:"from" form:"from"`
	To        string `json:"to" form:"to"`
	Direction string `json:"direction" form:"direction"`
	CallID    string `json:"callId" form:"callId"`
	User      string `json:"user" form:"user"`
	Cause     string `json:"cause" form:"cause"`
	// Timestamp is the PBX's own time of the event: RFC 3339, or Unix seconds (a JSON string
	// or number). Without it the event happened when it was received.
	Timestamp Timestamp `json:"timestamp" form:"timestamp"`
}

// Timestamp is an event time as a PBX sends it, kept as text until it is read.
type Timestamp string

// UnmarshalJSON takes a string or a number.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Timestamp(s)
		return nil
	}
	if string(b) == "null" {
		*t = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("timestamp must be RFC 3339 text or Unix seconds")
	}
	*t = Timestamp(n.String())
	return nil
}

// maxClockSkew bounds how far a PBX's clock may run ahead of ours: a timestamp further in the
// future is a broken clock or a forged event, and would make waits and talk times negative.
const maxClockSkew = 5 * time.Minute

// earliestEvent is the floor of an event's time: a PBX may replay a backlog after an outage,
// and `sportello simulate` replays whole past days, so an old time is no proof of anything;
// but none of them is from before 2000, and a clock reset to the epoch is (the store moves an
// answer or an end before the call's arrival to the arrival, so no talk time comes of it).
var earliestEvent = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ErrTimestampOutOfBounds is a well-formed timestamp no PBX sends: more than maxClockSkew
// ahead of our clock, or before earliestEvent.
var ErrTimestampOutOfBounds = errors.New("timestamp out of bounds")

// Time reads the timestamp, or returns now when there is none.
func (t Timestamp) Time(now time.Time) (time.Time, error) {
	if t == "" {
		return now, nil
	}
	var at time.Time
	if secs, err := strconv.ParseFloat(string(t), 64); err == nil {
		if math.IsNaN(secs) || math.IsInf(secs, 0) || secs < 0 || secs > 1e11 {
			return time.Time{}, fmt.Errorf("timestamp %q is out of range", string(t))
		}
		whole, frac := math.Modf(secs)
		at = time.Unix(int64(whole), int64(frac*1e9)).UTC()
	} else if at, err = time.Parse(time.RFC3339Nano, string(t)); err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is neither RFC 3339 nor Unix seconds", string(t))
	}
	if at.After(now.Add(maxClockSkew)) {
		return time.Time{}, fmt.Errorf("%w: %q is more than %.0f minutes ahead of the gateway's clock", ErrTimestampOutOfBounds, string(t), maxClockSkew.Minutes())
	}
	if at.Before(earliestEvent) {
		return time.Time{}, fmt.Errorf("%w: %q is before %d: a PBX clock reset", ErrTimestampOutOfBounds, string(t), earliestEvent.Year())
	}
	return at.UTC(), nil
}

// ScreenPop is what a newCall answers: who is calling, if we know them.
type ScreenPop struct {
	ContactID string       `json:"contact_id"`
	Known     bool         `json:"known"`
	Citizen   *CitizenCard `json:"citizen"`
	UserCheck
}

// CallAnswer is what an answer or a hangup answers.
type CallAnswer struct {
	ContactID string `json:"contact_id"`
	Status    string `json:"status"`
	UserCheck
}

// CitizenCard is the caller's record for the operator's screen.
type CitizenCard struct {
	ID           string             `json:"id"`
	Name         string             `json:"name"`
	Comune       *string            `json:"comune"`
	Phone        *string            `json:"phone"`
	Email        *string            `json:"email"`
	OpenContacts []channels.Contact `json:"open_contacts"`
}

// Directory finds the citizen a number belongs to.
type Directory interface {
	CitizenCard(ctx context.Context, phone string) (*CitizenCard, error)
}

// Options wire the handler.
type Options struct {
	// Sources are the PBXs that may post; without any, the endpoint refuses everything.
	Sources []Source
	// Operators tells whether the user an event names is an enabled user (when not, the
	// answer and the log say so).
	Operators Operators
	Sink      channels.Sink
	Calls     channels.CallSink
	Directory Directory
	ComuneOf  func(number string) string
	Now       func() time.Time
	Logger    *slog.Logger
}

// Handler serves /webhooks/cti.
type Handler struct {
	o       Options
	sources []source
}

// New validates the options. Without sources the endpoint refuses everything.
func New(o Options) (*Handler, error) {
	if o.Sink == nil || o.Calls == nil {
		return nil, errors.New("cti: a sink and a call sink are required")
	}
	if o.Operators == nil {
		return nil, errors.New("cti: operators are required: an event's user is checked before it is recorded")
	}
	sources, err := newSources(o.Sources)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ComuneOf == nil {
		o.ComuneOf = func(string) string { return "" }
	}
	return &Handler{o: o, sources: sources}, nil
}

// Register is the CTI route list.
func (h *Handler) Register(e *echo.Echo) {
	e.POST("/webhooks/cti", h.event, h.authorize)
}

func decode(c echo.Context) (Event, error) {
	var ev Event
	r := c.Request()
	mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if mt == echo.MIMEApplicationJSON {
		if err := jsonbody.Read(r.Body, &ev, jsonbody.Options{Code: "malformed_json"}); err != nil {
			return Event{}, err
		}
		return ev, nil
	}
	if err := r.ParseForm(); err != nil {
		if jsonbody.IsTooLarge(err) {
			return ev, httperr.New(http.StatusRequestEntityTooLarge, "too_large", "event body too large")
		}
		return ev, httperr.BadRequest("malformed_form", "the body is not a valid form: %v", err)
	}
	f := r.PostForm
	ev = Event{Event: f.Get("event"), From: f.Get("from"), To: f.Get("to"), Direction: f.Get("direction"),
		CallID: f.Get("callId"), User: f.Get("user"), Cause: f.Get("cause"), Timestamp: Timestamp(f.Get("timestamp"))}
	return ev, nil
}

func (h *Handler) event(c echo.Context) error {
	ev, err := decode(c)
	if err != nil {
		return err
	}
	if ev.CallID == "" {
		return httperr.BadRequest("missing_field", "callId is required")
	}
	now, err := ev.Timestamp.Time(h.o.Now().UTC())
	if err != nil {
		return httperr.BadRequest("invalid_field", "%v", err)
	}
	if ev.Event != "newCall" && ev.Event != "answer" && ev.Event != "hangup" {
		return httperr.BadRequest("unknown_event", "event must be newCall, answer or hangup, got %q", ev.Event)
	}
	src := requestSource(c)
	op, err := h.checkOperator(c.Request().Context(), ev.User)
	if err != nil {
		return err
	}
	switch ev.Event {
	case "newCall":
		return h.newCall(c, src, ev, op, now)
	case "answer":
		return h.update(c, src, ev, op, channels.CallEvent{Status: "in-progress", AnsweredAt: &now, Operator: op.operator})
	default:
		status := "completed"
		if ev.Cause != "" && ev.Cause != "normal" && ev.Cause != "normalClearing" {
			status = "completed:" + ev.Cause
		}
		return h.update(c, src, ev, op, channels.CallEvent{Status: status, EndedAt: &now, Operator: op.operator})
	}
}

// logEvent records which source reported what, once it is recorded: the access log tells only
// that a request came.
func (h *Handler) logEvent(c echo.Context, src Source, ev Event, op operatorCheck, contactID string) {
	attrs := []any{"source", src.label(), "event", ev.Event, "call_id", ev.CallID, "contact_id", contactID,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID)}
	if ev.User != "" && !op.recognized() {
		// The PBX hears it in the answer, the administrator here.
		h.o.Logger.Warn("cti event: the user is not an enabled user; the call records the name as reported",
			append(attrs, "user", op.operator, "user_status", op.status.String())...)
		return
	}
	h.o.Logger.Info("cti event", append(attrs, "user", op.operator)...)
}

func (h *Handler) newCall(c echo.Context, src Source, ev Event, op operatorCheck, at time.Time) error {
	if ev.From == "" {
		return httperr.BadRequest("missing_field", "from is required")
	}
	dir := channels.Inbound
	if ev.Direction == "out" {
		dir = channels.Outbound
	} else if ev.Direction != "" && ev.Direction != "in" {
		return httperr.BadRequest("invalid_field", "direction must be in or out")
	}
	from, to := channels.NormalizePhoneOrRaw(ev.From), channels.NormalizePhoneOrRaw(ev.To)
	comuneBy := to
	if dir == channels.Outbound {
		comuneBy = from
	}
	ctx := c.Request().Context()
	caller := from
	if dir == channels.Outbound {
		caller = to
	}
	// The screen pop shows what was known before this call: looked up first.
	var card *CitizenCard
	if h.o.Directory != nil {
		var err error
		if card, err = h.o.Directory.CitizenCard(ctx, caller); err != nil {
			return err
		}
	}
	r, err := h.o.Sink.Receive(ctx, channels.InboundMessage{Channel: channels.Phone, Direction: dir, ExternalID: ev.CallID,
		From: from, To: to, Comune: h.o.ComuneOf(comuneBy), Call: &channels.Call{Status: "ringing", Operator: op.operator},
		Notes: callNotes(src, ev, op), ReceivedAt: at})
	if err != nil {
		return err
	}
	h.logEvent(c, src, ev, op, r.ContactID)
	return c.JSON(http.StatusOK, ScreenPop{ContactID: r.ContactID, Known: card != nil, Citizen: card, UserCheck: op.answer})
}

// callNotes are what the call's record keeps of who reported it: the named source (the
// cti.token shorthand names none), and a user the PBX named that was not recorded.
func callNotes(src Source, ev Event, op operatorCheck) []string {
	var notes []string
	if src.Name != "" {
		notes = append(notes, fmt.Sprintf("chiamata segnalata dal centralino %q", src.Name))
	}
	if ev.User != "" && !op.recognized() {
		notes = append(notes, fmt.Sprintf("il centralino indica come operatore %q, che non è un utente attivo di Sportello", op.operator))
	}
	return notes
}

func (h *Handler) update(c echo.Context, src Source, ev Event, op operatorCheck, ce channels.CallEvent) error {
	id, err := h.o.Calls.UpdateCall(c.Request().Context(), channels.Phone, ev.CallID, ce)
	if errors.Is(err, channels.ErrUnknownCall) {
		return httperr.NotFound("call " + ev.CallID)
	}
	if err != nil {
		return err
	}
	h.logEvent(c, src, ev, op, id)
	return c.JSON(http.StatusOK, CallAnswer{ContactID: id, Status: ce.Status, UserCheck: op.answer})
}
