package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
)

// TrafficCategory is the category whose active alerts answer BLOCCO and the phone menu.
const TrafficCategory = "blocco-traffico"

// Options configure a Service. Zero durations get the defaults noted.
type Options struct {
	Store *store.Store
	// FanoutStore, when set, is the store (a pool of its own) the fan-out and its sweeps use,
	// so a large alert cannot take the connections inbound traffic needs.
	FanoutStore *store.Store
	Config      *config.Config
	// Sender is asked for the SMS sender at every send, so the gateway may wire it late.
	Sender func() channels.Sender
	// AppIO reaches subscribers with a fiscal code when an alert names "app_io"; nil means no
	// comune can use it.
	AppIO channels.AppIOClient
	// Jobs is asked for the River client when jobs are enqueued (the gateway builds it after
	// wiring). Nil only where nothing is enqueued (the CLI).
	Jobs func() *jobs.Client
	// Lookup asks the provider whether an interrupted send got through; nil means such a
	// recipient is recorded failed ("unknown") and never resent blindly.
	Lookup Lookup
	Events events.Publisher
	Logger *slog.Logger
	// StatusCallback is the URL the provider reports delivery to.
	StatusCallback string
	// SenderID names this process in the fan-out's ownership records (default: a new id).
	SenderID string
	// MaxInFlight bounds this process's concurrent requests to the provider (default 64).
	MaxInFlight int
	// HeartbeatEvery (2s): how often this process says it is alive. StaleAfter (10s): a process
	// silent that long is dead and its work is taken over. SettleAfter (5s): how long after an
	// interrupted send the provider is asked about it. SweepEvery (1s): how often scheduled and
	// expired alerts are looked for.
	HeartbeatEvery time.Duration
	StaleAfter     time.Duration
	SettleAfter    time.Duration
	SweepEvery     time.Duration
	// LeaseFor (alerts.batch_lease) is how long a batch's worker may go without progress before
	// the batch is taken back from it, even if its process is alive. It must exceed one send's
	// timeout. StallAfter (alerts.stall_after): a sending alert without progress that long is
	// reported stalled.
	LeaseFor   time.Duration
	StallAfter time.Duration
	// Stalled, when set, is kept at the number of stalled alerts (a Prometheus gauge).
	Stalled interface{ Set(float64) }
	// ActiveFor is how long an alert without expiry counts as in force for BLOCCO (24h).
	ActiveFor time.Duration
	// PaceHorizon is how far ahead of now send slots may be reserved (1s).
	PaceHorizon time.Duration
	// SendAtGrace is how far in the past a send_at may be and still mean "now" (30s): clocks differ.
	SendAtGrace time.Duration
	Now         func() time.Time
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SenderID == "" {
		o.SenderID = store.NewID()
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 64
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.HeartbeatEvery, 2*time.Second)
	def(&o.StaleAfter, 10*time.Second)
	def(&o.SettleAfter, 5*time.Second)
	def(&o.SweepEvery, time.Second)
	def(&o.LeaseFor, o.Config.Alerts.BatchLease)
	def(&o.LeaseFor, 60*time.Second)
	def(&o.StallAfter, o.Config.Alerts.StallAfter)
	def(&o.StallAfter, 2*time.Minute)
	def(&o.ActiveFor, 24*time.Hour)
	def(&o.PaceHorizon, time.Second)
	def(&o.SendAtGrace, 30*time.Second)
	if o.Now == nil {
		o.Now = time.Now
	}
}

// comuneInfo is what the service knows of one comune.
type comuneInfo struct {
	cfg       *config.Comune
	shortName string
	topics    map[string]string // folded -> as configured
	templates map[string]*template.Template
}

// Service is the notification service of one gateway process.
type Service struct {
	o          Options
	as         *alertstore.Store // the alerts tables, over o.Store
	fas        *alertstore.Store // the same tables, over o.FanoutStore (or o.Store)
	comuni     map[string]*comuneInfo
	order      []string // comune ids in config order
	names      []comuneName
	byNumber   map[string]string
	shared     map[string]bool
	categories map[string]bool
	classifier *router.Classifier
	inflight   chan struct{}
	// senders run the fan-out's sends.
	senders *senderPool

	stopOnce sync.Once
	stopping chan struct{}

	progressMu   sync.Mutex
	lastProgress map[string]time.Time
	// yieldMu makes the fan-out's waits for inbound traffic take turns (yieldToInbound).
	yieldMu sync.Mutex
	// governor spaces sends while people's writes are slowed (easeForInbound).
	governor *inboundGovernor
}

// DefaultTemplates are used for a language a comune did not configure.
var DefaultTemplates = map[string]string{
	"it": "{{.Message}}",
	"en": "{{.Message}}",
}

// New builds the service and checks the comuni's alert templates.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Config == nil {
		return nil, errors.New("alerts: a store and a config are required")
	}
	o.setDefaults()
	cls, err := router.NewClassifier(o.Config.Categories)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	fanoutStore := o.FanoutStore
	if fanoutStore == nil {
		fanoutStore = o.Store
	}
	s := &Service{o: o, as: alertstore.New(o.Store), fas: alertstore.New(fanoutStore), comuni: map[string]*comuneInfo{}, byNumber: map[string]string{}, shared: map[string]bool{},
		categories: map[string]bool{}, classifier: cls, inflight: make(chan struct{}, o.MaxInFlight), senders: newSenderPool(o.MaxInFlight, senderIdleFor),
		stopping: make(chan struct{}), lastProgress: map[string]time.Time{}}
	s.governor = &inboundGovernor{
		active:  func() bool { return o.Store.MainWritesWithin(inboundWindow) },
		latency: o.Store.MainWriteLatency,
	}
	for _, c := range o.Config.Categories {
		s.categories[c.ID] = true
	}
	for _, n := range o.Config.SharedNumbers {
		s.shared[channels.NormalizePhoneOrRaw(n)] = true
	}
	for i := range o.Config.Comuni {
		cm := &o.Config.Comuni[i]
		info := &comuneInfo{cfg: cm, shortName: shortName(cm.Name), topics: map[string]string{}, templates: map[string]*template.Template{}}
		for _, t := range cm.Topics {
			info.topics[foldPhrase(t)] = t
		}
		for _, lang := range []string{"it", "en"} {
			src, ok := cm.AlertTemplates[lang]
			if !ok {
				src = DefaultTemplates[lang]
			}
			t, err := template.New(cm.ID + "/" + lang).Option("missingkey=error").Parse(src)
			if err != nil {
				return nil, fmt.Errorf("alerts: comuni[%d].alert_templates.%s: %w", i, lang, err)
			}
			if _, err := render(t, templateData{Message: "x", Comune: cm.Name, ComuneShort: info.shortName, Category: "altro"}); err != nil {
				return nil, fmt.Errorf("alerts: comuni[%d].alert_templates.%s: %w", i, lang, err)
			}
			info.templates[lang] = t
		}
		for lang := range cm.AlertTemplates {
			if lang != "it" && lang != "en" {
				return nil, fmt.Errorf("alerts: comuni[%d].alert_templates: unknown language %q (it, en)", i, lang)
			}
		}
		s.comuni[cm.ID] = info
		s.order = append(s.order, cm.ID)
		for _, n := range cm.PhoneNumbers {
			s.byNumber[channels.NormalizePhoneOrRaw(n)] = cm.ID
		}
		seen := map[string]bool{}
		for _, name := range append([]string{cm.ID, cm.Name, info.shortName, strings.ReplaceAll(cm.ID, "-", " ")}, cm.Aliases...) {
			words := foldWords(name)
			key := strings.Join(words, " ")
			if len(words) == 0 || seen[key] || key == "comune" {
				continue
			}
			seen[key] = true
			s.names = append(s.names, comuneName{words: words, comune: cm.ID})
		}
	}
	return s, nil
}

// shortName drops the "Comune di" of a comune's name for lists and replies.
func shortName(name string) string {
	for _, p := range []string{"Comune di ", "Comune del ", "Comune della ", "Comune dell'", "Comune "} {
		if strings.HasPrefix(name, p) {
			return strings.TrimPrefix(name, p)
		}
	}
	return name
}

// SenderID is this process's name in the fan-out's ownership records.
func (s *Service) SenderID() string { return s.o.SenderID }

// Comune returns a configured comune.
func (s *Service) Comune(id string) (*config.Comune, bool) {
	info, ok := s.comuni[id]
	if !ok {
		return nil, false
	}
	return info.cfg, true
}

// Topics validates topic names for a comune and returns them as configured, sorted and unique.
func (s *Service) Topics(comune string, topics []string) ([]string, error) {
	info, ok := s.comuni[comune]
	if !ok {
		return nil, notFound("comune %q not found", comune)
	}
	set := map[string]bool{}
	for _, t := range topics {
		name, ok := info.topics[foldPhrase(t)]
		if !ok {
			return nil, invalid("unknown_topic", "unknown topic %q for comune %s (topics: %s)", t, comune, strings.Join(info.cfg.Topics, ", "))
		}
		set[name] = true
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out, nil
}

// now is the service's clock.
func (s *Service) now() time.Time { return s.o.Now() }

// Now is the service's clock (pages say when an alert sent now would go).
func (s *Service) Now() time.Time { return s.o.Now() }

// sender is the SMS sender now.
func (s *Service) sender() (channels.Sender, error) {
	if s.o.Sender == nil {
		return nil, errors.New("alerts: no SMS sender")
	}
	snd := s.o.Sender()
	if snd == nil {
		return nil, errors.New("alerts: no SMS sender")
	}
	return snd, nil
}

// enqueueBatches is the alertstore.Enqueuer that inserts one fan-out job per batch.
func (s *Service) enqueueBatches(ctx context.Context, tx *store.Tx, alertID string, batches []int) error {
	if s.o.Jobs == nil || s.o.Jobs() == nil {
		return errors.New("alerts: no job client to enqueue the fan-out")
	}
	params := make([]river.InsertManyParams, len(batches))
	for i, b := range batches {
		params[i] = river.InsertManyParams{Args: FanoutArgs{AlertID: alertID, Batch: b}}
	}
	_, err := s.o.Jobs().InsertManyTx(ctx, tx.SQL(), params)
	return err
}

// publishProgress tells live views an alert moved, at most a few times a second per alert.
func (s *Service) publishProgress(ctx context.Context, alertID, comune string, force bool) {
	if s.o.Events == nil {
		return
	}
	s.progressMu.Lock()
	now := time.Now()
	if last, ok := s.lastProgress[alertID]; ok && !force && now.Sub(last) < 250*time.Millisecond {
		s.progressMu.Unlock()
		return
	}
	s.lastProgress[alertID] = now
	if len(s.lastProgress) > 1000 {
		for id, t := range s.lastProgress {
			if now.Sub(t) > time.Minute {
				delete(s.lastProgress, id)
			}
		}
	}
	s.progressMu.Unlock()
	if err := s.o.Events.Publish(ctx, events.Event{Type: events.AlertProgress, AlertID: alertID, Comune: comune}); err != nil {
		s.o.Logger.Warn("publishing alert progress failed", "alert", alertID, "err", err)
	}
}
