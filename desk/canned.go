package desk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/gsm7"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/templates"
)

// Audit actions of the canned answers and the calendars.
const (
	AuditCannedCreate = "canned_create"
	AuditCannedUpdate = "canned_update"
	AuditCannedDelete = "canned_delete"
	AuditHoursUpdate  = "hours_update"
)

// Limits of a canned answer.
const (
	MaxCannedTitle = 200
	MaxCannedText  = 1600 // ten GSM-7 segments
)

// Canned is a canned answer as the API shows it: Comune nil is shared by every comune,
// Channels empty fits every channel. Segments count the SMS each text costs with example
// values in its placeholders.
type Canned struct {
	ID        string         `json:"id"`
	Title     string         `json:"title"`
	TextIT    string         `json:"text_it"`
	TextEN    string         `json:"text_en"`
	Comune    *string        `json:"comune"`
	Channels  []string       `json:"channels"`
	Segments  CannedSegments `json:"segments"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// CannedSegments is the SMS cost of each text (EN nil without an English text).
type CannedSegments struct {
	IT gsm7.Segments  `json:"it"`
	EN *gsm7.Segments `json:"en"`
}

// CannedInput is a canned answer as written by a supervisor or admin.
type CannedInput struct {
	Title    string   `json:"title"`
	TextIT   string   `json:"text_it"`
	TextEN   string   `json:"text_en"`
	Comune   *string  `json:"comune"`
	Channels []string `json:"channels"`
}

// PickedCanned is a canned answer ready for one contact's reply box: its text in the contact's
// language with the placeholders filled.
type PickedCanned struct {
	ID    string
	Title string
	Body  string
}

// exampleValues fill the placeholders when an answer's cost is counted.
var exampleValues = map[string]string{"name": "Maria Rossi", "comune": "Comune di Sesto Fiorentino", "office": "Polizia Municipale"}

func (d *Desk) cannedView(a store.CannedAnswer) Canned {
	c := Canned{ID: a.ID, Title: a.Title, TextIT: a.TextIT, TextEN: a.TextEN, Channels: a.Channels,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if c.Channels == nil {
		c.Channels = []string{}
	}
	if a.Comune != "" {
		cm := a.Comune
		c.Comune = &cm
	}
	count := func(text, lang string) gsm7.Segments {
		vals := map[string]string{"hours": d.hours.Describe(a.Comune, lang)}
		for k, v := range exampleValues {
			vals[k] = v
		}
		s, err := expandPlaceholders(text, vals)
		if err != nil {
			s = text // stored answers are checked: count the raw text rather than nothing
		}
		return gsm7.CountSegments(s)
	}
	c.Segments.IT = count(a.TextIT, "it")
	if a.TextEN != "" {
		en := count(a.TextEN, "en")
		c.Segments.EN = &en
	}
	return c
}

// ListCanned lists the canned answers the user may see: the shared ones and those of the
// user's comuni, narrowed to one comune (its own and the shared ones) and one channel when
// given. A comune outside the user's scope is a 404.
func (d *Desk) ListCanned(ctx context.Context, u store.User, comune, channel string) ([]Canned, error) {
	if comune != "" && !u.Scope().Allows(&comune) {
		return nil, notFound("comune")
	}
	if channel != "" && !channels.Kind(channel).Valid() {
		return nil, badRequest("invalid_channel", "unknown channel %q", channel)
	}
	as, err := d.o.Store.CannedAnswers(ctx, store.CannedFilter{Scope: u.Scope(), Comune: comune, Channel: channel})
	if err != nil {
		return nil, err
	}
	out := make([]Canned, 0, len(as))
	for _, a := range as {
		out = append(out, d.cannedView(a))
	}
	return out, nil
}

// GetCanned reads one answer the user may see (404 otherwise).
func (d *Desk) GetCanned(ctx context.Context, u store.User, id string) (Canned, error) {
	a, err := d.o.Store.CannedAnswer(ctx, id)
	if err != nil {
		return Canned{}, notFoundAs(err, "canned answer")
	}
	if a.Comune != "" && !u.Scope().Allows(&a.Comune) {
		return Canned{}, notFound("canned answer")
	}
	return d.cannedView(a), nil
}

// CanEditCanned reports whether u may change an answer of comune ("" = shared): a comune's
// answers are for its supervisors and admins, shared ones for admins of every comune.
func CanEditCanned(u store.User, comune string) bool {
	if !u.AtLeast(store.RoleSupervisor) {
		return false
	}
	if comune == "" {
		return u.Role == store.RoleAdmin && len(u.Comuni) == 0
	}
	return u.Scope().Allows(&comune)
}

// checkCanned validates an input and returns it as the store keeps it.
func (d *Desk) checkCanned(u store.User, in CannedInput) (store.CannedAnswer, error) {
	a := store.CannedAnswer{Title: strings.TrimSpace(in.Title), TextIT: strings.TrimSpace(in.TextIT), TextEN: strings.TrimSpace(in.TextEN)}
	if in.Comune != nil {
		a.Comune = strings.TrimSpace(*in.Comune)
	}
	switch {
	case a.Title == "":
		return a, badRequest("invalid_title", "a title is required")
	case utf8.RuneCountInString(a.Title) > MaxCannedTitle:
		return a, badRequest("invalid_title", "the title is longer than %d characters", MaxCannedTitle)
	case a.TextIT == "":
		return a, badRequest("invalid_text", "the Italian text is required")
	case utf8.RuneCountInString(a.TextIT) > MaxCannedText || utf8.RuneCountInString(a.TextEN) > MaxCannedText:
		return a, badRequest("invalid_text", "a text is longer than %d characters", MaxCannedText)
	case !utf8.ValidString(a.Title + a.TextIT + a.TextEN):
		return a, badRequest("invalid_text", "the text is not valid UTF-8")
	}
	for _, text := range []string{a.TextIT, a.TextEN} {
		if _, err := expandPlaceholders(text, nil); err != nil {
			return a, badRequest("invalid_placeholder", "%s", err.Error())
		}
	}
	if a.Comune != "" {
		if _, ok := d.o.Config.ComuneByID(a.Comune); !ok || !u.Scope().Allows(&a.Comune) {
			return a, notFound("comune")
		}
	}
	if !CanEditCanned(u, a.Comune) {
		return a, forbidden("shared canned answers are changed by admins of every comune only")
	}
	seen := map[string]bool{}
	for _, ch := range in.Channels {
		ch = strings.TrimSpace(ch)
		if !channels.Kind(ch).Valid() {
			return a, badRequest("invalid_channel", "unknown channel %q", ch)
		}
		if !seen[ch] {
			seen[ch] = true
			a.Channels = append(a.Channels, ch)
		}
	}
	slices.Sort(a.Channels)
	return a, nil
}

func cannedDetail(a store.CannedAnswer) string {
	comune := a.Comune
	if comune == "" {
		comune = "shared"
	}
	return fmt.Sprintf("comune=%s channels=%s title=%q", comune, strings.Join(a.Channels, ","), a.Title)
}

// CreateCanned stores a new canned answer, audited.
func (d *Desk) CreateCanned(ctx context.Context, u store.User, in CannedInput) (Canned, error) {
	a, err := d.checkCanned(u, in)
	if err != nil {
		return Canned{}, err
	}
	a.ID = store.NewID()
	var saved store.CannedAnswer
	err = d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if saved, err = d.o.Store.InsertCannedTx(ctx, tx, a); err != nil {
			return err
		}
		return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: AuditCannedCreate, Target: a.ID, Detail: cannedDetail(a), Comune: a.Comune})
	})
	if err != nil {
		return Canned{}, err
	}
	return d.cannedView(saved), nil
}

// UpdateCanned replaces an answer's fields, audited. An answer the user may not see is a 404;
// one they see but may not change (a shared one, for a supervisor) is a 403.
func (d *Desk) UpdateCanned(ctx context.Context, u store.User, id string, in CannedInput) (Canned, error) {
	a, err := d.checkCanned(u, in)
	if err != nil {
		return Canned{}, err
	}
	a.ID = id
	var saved store.CannedAnswer
	err = d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		old, err := d.editableCannedTx(ctx, tx, u, id)
		if err != nil {
			return err
		}
		if saved, err = d.o.Store.UpdateCannedTx(ctx, tx, a); err != nil {
			return err
		}
		saved.CreatedAt, saved.Position = old.CreatedAt, old.Position
		return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: AuditCannedUpdate, Target: id,
			Detail: cannedDetail(a) + " was: " + cannedDetail(old), Comune: old.Comune})
	})
	if err != nil {
		return Canned{}, err
	}
	return d.cannedView(saved), nil
}

// DeleteCanned removes an answer, audited (404 and 403 as UpdateCanned).
func (d *Desk) DeleteCanned(ctx context.Context, u store.User, id string) error {
	return d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		old, err := d.editableCannedTx(ctx, tx, u, id)
		if err != nil {
			return err
		}
		if err := d.o.Store.DeleteCannedTx(ctx, tx, id); err != nil {
			return notFoundAs(err, "canned answer")
		}
		return d.o.Store.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: AuditCannedDelete, Target: id, Detail: cannedDetail(old), Comune: old.Comune})
	})
}

func (d *Desk) editableCannedTx(ctx context.Context, tx *store.Tx, u store.User, id string) (store.CannedAnswer, error) {
	old, err := d.o.Store.CannedAnswerTx(ctx, tx, id)
	if err != nil {
		return old, notFoundAs(err, "canned answer")
	}
	if old.Comune != "" && !u.Scope().Allows(&old.Comune) {
		return old, notFound("canned answer")
	}
	if !CanEditCanned(u, old.Comune) {
		return old, forbidden("shared canned answers are changed by admins of every comune only")
	}
	return old, nil
}

// CannedFor is the canned answers for one contact's reply box: the shared ones and the
// contact's comune's, fitting its channel, in the language of the citizen's message, with the
// placeholders filled (the citizen's name, the comune, the office competent for the
// contact's category, the comune's hours).
func (d *Desk) CannedFor(ctx context.Context, c channels.Contact) ([]PickedCanned, error) {
	comune := deref(c.Comune)
	as, err := d.o.Store.CannedAnswers(ctx, store.CannedFilter{Comune: comune, Channel: string(c.Channel)})
	if err != nil {
		return nil, err
	}
	if comune == "" {
		// A contact without a comune gets the shared answers only.
		as = slices.DeleteFunc(as, func(a store.CannedAnswer) bool { return a.Comune != "" })
	}
	lang := Language(c.Body)
	vals := map[string]string{"hours": d.hours.Describe(comune, lang)}
	if c.Citizen != nil {
		vals["name"] = c.Citizen.Name
	}
	if cm, ok := d.o.Config.ComuneByID(comune); ok {
		vals["comune"] = cm.Name
		for _, o := range cm.Offices {
			if c.Category != nil && slices.Contains(o.Categories, *c.Category) {
				vals["office"] = o.Name
				break
			}
		}
	}
	out := make([]PickedCanned, 0, len(as))
	for _, a := range as {
		text := a.TextIT
		if lang == "en" && a.TextEN != "" {
			text = a.TextEN
		}
		body, err := expandPlaceholders(text, vals)
		if err != nil {
			d.o.Logger.Error("a stored canned answer has an unknown placeholder", "id", a.ID, "err", err)
			continue
		}
		out = append(out, PickedCanned{ID: a.ID, Title: a.Title, Body: strings.Join(strings.Fields(body), " ")})
	}
	return out, nil
}

// SeedCanned stores the built-in canned answers as shared ones, once per database: an install
// whose admins deleted them does not get them back.
func (d *Desk) SeedCanned(ctx context.Context) error {
	defaults, err := builtInCanned()
	if err != nil {
		return err
	}
	return d.o.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		first, err := d.o.Store.SeedOnceTx(ctx, tx, "canned_answers")
		if err != nil || !first {
			return err
		}
		for _, a := range defaults {
			if _, err := d.o.Store.InsertCannedTx(ctx, tx, a); err != nil {
				return err
			}
		}
		return nil
	})
}

// builtInCanned reads templates/sms/canned: NN_id.txt holds the title, the Italian text and
// the English text, one a line.
func builtInCanned() ([]store.CannedAnswer, error) {
	fsys := templates.CannedDefaults()
	names, err := fs.Glob(fsys, "*.txt")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := make([]store.CannedAnswer, 0, len(names))
	for i, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 3 {
			return nil, fmt.Errorf("desk: built-in canned answer %s: want 3 lines (title, Italian, English), got %d", name, len(lines))
		}
		for _, l := range lines[1:] {
			if _, err := expandPlaceholders(l, nil); err != nil {
				return nil, fmt.Errorf("desk: built-in canned answer %s: %w", name, err)
			}
		}
		out = append(out, store.CannedAnswer{Title: strings.TrimSpace(lines[0]), TextIT: strings.TrimSpace(lines[1]),
			TextEN: strings.TrimSpace(lines[2]), Position: i + 1})
	}
	if len(out) == 0 {
		return nil, errors.New("desk: no built-in canned answers")
	}
	return out, nil
}
