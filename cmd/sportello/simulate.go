package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/adapters/twilio"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store"
)

// simulate plays a month of the Linea Comune against a running gateway, through its real
// doors: signed Twilio SMS and voice webhooks, CTI call events with the PBX's own times,
// SMTP mail and fax mail, then operators resolving the contacts through the operator API.

// weighted is a share of a mix.
type weighted struct {
	key   string
	share float64
}

// simProfile is a mix to reproduce.
type simProfile struct {
	channels   []weighted // phone-cti, phone-twilio, sms, email, fax
	categories []weighted
	outcomes   []weighted
	// abandon is the share of CTI calls the caller gives up on; they stay unresolved.
	abandon            float64
	meanWait, meanTalk float64 // seconds
}

// The seed's figures: 93.5 % solved at first level, 4.1 % transferred by phone, 2.4 %
// forwarded by email; traffic blocks 44.97 %, fines 19.14 %, general services 11.89 %, ZTL
// 5.38 %, vehicle incentives 3.66 %, the rest spread; 117 s of talk on average.
var simProfiles = map[string]simProfile{
	"linea-comune": {
		channels: []weighted{{"phone-cti", 0.76}, {"phone-twilio", 0.04}, {"sms", 0.08}, {"email", 0.09}, {"fax", 0.03}},
		categories: []weighted{{"blocco-traffico", 0.4497}, {"contravvenzioni", 0.1914}, {"servizi-generici", 0.1189},
			{"permessi-ztl", 0.0538}, {"incentivi-veicoli", 0.0366}, {"reclami-suggerimenti", 0.0748}, {"altro", 0.0748}},
		outcomes: []weighted{{"first_level", 0.935}, {"transferred_phone", 0.041}, {"forwarded_email", 0.024}},
		abandon:  0.03, meanWait: 15, meanTalk: 117,
	},
}

func pick(r *rand.Rand, mix []weighted) string {
	x := r.Float64()
	for _, w := range mix {
		if x < w.share {
			return w.key
		}
		x -= w.share
	}
	return mix[len(mix)-1].key
}

// simTally counts what was sent and done.
type simTally struct {
	mu         sync.Mutex
	sent       map[string]int
	outcomes   map[string]int
	categories map[string]int
	fallbacks  int
	abandoned  int
	replies    int
	talk       float64
	answered   int
	// latency holds each send's time, from the request to the gateway's answer, by channel.
	latency map[string][]time.Duration
	// sending is how long the sending phase took.
	sending time.Duration
}

func (t *simTally) addLatency(channel string, d time.Duration) {
	t.mu.Lock()
	t.latency[channel] = append(t.latency[channel], d)
	t.mu.Unlock()
}

func (t *simTally) add(m map[string]int, k string) {
	t.mu.Lock()
	m[k]++
	t.mu.Unlock()
}

type simulator struct {
	cfg      *config.Config
	base     string
	smtpAddr string
	token    string
	// ctiToken is the bearer token of the CTI source the simulated PBX posts as.
	ctiToken string
	http     *http.Client
	tally    *simTally
	days     int
	now      time.Time
	// run makes this run's call and message ids its own: the start time and the seed, so two
	// simulators started together (one per replica) never send the same call twice.
	run string
	out io.Writer
}

func runSimulate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags("simulate", e)
	n := fs.Int("contacts", 0, "how many contacts to send")
	days := fs.Int("days", 1, "the calls are spread over this many past days")
	profileName := fs.String("profile", "linea-comune", "the mix to reproduce")
	seed := fs.Uint64("seed", 1, "random seed: the same seed sends the same contacts")
	gw := fs.String("url", "", "the gateway's address (default: http.listen)")
	smtpAddr := fs.String("smtp", "", "the gateway's SMTP address (default: smtp.listen)")
	workers := fs.Int("workers", 4, "requests in flight")
	sendOnly := fs.Bool("send-only", false, "only send the contacts (a capacity run): no operator resolves them")
	ctiSource := fs.String("cti-source", "", "the cti.sources entry whose token the simulated PBX uses (default: cti.token, else the first source)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	profile, ok := simProfiles[*profileName]
	switch {
	case !ok:
		return fmt.Errorf("--profile: unknown profile %q (linea-comune)", *profileName)
	case *n < 1:
		return errors.New("--contacts must be at least 1")
	case *days < 1 || *days > 366:
		return errors.New("--days must be between 1 and 366")
	case *workers < 1 || *workers > 64:
		return errors.New("--workers must be between 1 and 64")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *smtpAddr == "" {
		*smtpAddr = cfg.SMTP.Listen
	}
	if cfg.Twilio.AuthToken == "" {
		return errors.New("simulate signs Twilio webhooks: twilio.auth_token must be configured")
	}
	pbx, err := simulatedPBX(cfg.CTI, *ctiSource)
	if err != nil {
		return err
	}
	token, err := simulatorToken(ctx, *cfgPath)
	if err != nil {
		return err
	}
	s := &simulator{cfg: cfg, base: gatewayURL(*gw, cfg.HTTP.Listen), smtpAddr: *smtpAddr, token: token, ctiToken: pbx.Token,
		http: &http.Client{Timeout: 30 * time.Second}, days: *days, now: time.Now(), out: e.stderr,
		run:   fmt.Sprintf("%d-%d", time.Now().Unix(), *seed),
		tally: &simTally{sent: map[string]int{}, outcomes: map[string]int{}, categories: map[string]int{}, latency: map[string][]time.Duration{}}}
	r := rand.New(rand.NewPCG(*seed, 0x5e11))

	// Draw every contact first, so the seed alone decides them whatever the concurrency.
	type job struct {
		i       int
		channel string
		comune  config.Comune
		r       *rand.Rand
	}
	jobs := make([]job, *n)
	for i := range jobs {
		jobs[i] = job{i: i, channel: pick(r, profile.channels), comune: cfg.Comuni[r.IntN(len(cfg.Comuni))],
			r: rand.New(rand.NewPCG(*seed, uint64(i)+1))}
	}
	var done, failed int
	var mu sync.Mutex
	var firstErr error
	progress := func(phase string, total int) {
		_, _ = fmt.Fprintf(e.stderr, "\r%s %d/%d", phase, done, total)
	}
	run := func(phase string, items int, fn func(i int) error) error {
		done, failed = 0, 0
		ch := make(chan int)
		var wg sync.WaitGroup
		for range *workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range ch {
					err := fn(i)
					mu.Lock()
					done++
					if err != nil {
						failed++
						if firstErr == nil {
							firstErr = err
						}
					}
					if done%25 == 0 || done == items {
						progress(phase, items)
					}
					mu.Unlock()
				}
			}()
		}
		for i := range items {
			if ctx.Err() != nil {
				break
			}
			ch <- i
		}
		close(ch)
		wg.Wait()
		_, _ = fmt.Fprintln(e.stderr)
		if firstErr != nil {
			return fmt.Errorf("%s: %d of %d failed, the first: %w", phase, failed, items, firstErr)
		}
		return ctx.Err()
	}
	began := time.Now()
	if err := run("sending", len(jobs), func(i int) error {
		j := jobs[i]
		t0 := time.Now()
		err := s.send(ctx, j.i, j.channel, j.comune, j.r, profile)
		s.tally.addLatency(j.channel, time.Since(t0))
		return err
	}); err != nil {
		return err
	}
	s.tally.sending = time.Since(began)
	if *sendOnly {
		return s.printSummary(e.stdout, *n, *seed, *profileName)
	}
	open, err := s.openContacts(ctx)
	if err != nil {
		return err
	}
	resolveRand := rand.New(rand.NewPCG(*seed, 0xdecade))
	type resolution struct {
		id, comune, channel, outcome, category string
	}
	plan := make([]resolution, 0, len(open))
	for _, c := range open {
		if c.abandoned {
			continue
		}
		plan = append(plan, resolution{id: c.id, comune: c.comune, channel: c.channel, outcome: pick(resolveRand, profile.outcomes), category: pick(resolveRand, profile.categories)})
	}
	if err := run("resolving", len(plan), func(i int) error {
		p := plan[i]
		if p.channel != "phone" {
			// The operator answers on the contact's own channel first: the first response.
			if err := s.reply(ctx, p.id); err != nil {
				return err
			}
		}
		return s.resolve(ctx, p.id, p.comune, p.outcome, p.category)
	}); err != nil {
		return err
	}
	return s.printSummary(e.stdout, *n, *seed, *profileName)
}

// simulatedPBX is the CTI source the simulator posts call events as: the one named, else the
// cti.token shorthand, else the first of cti.sources. A source bound to networks must include
// the address the simulator posts from, or its events are refused (403).
func simulatedPBX(c config.CTI, name string) (config.CTISource, error) {
	all := c.AllSources()
	if name != "" {
		for _, src := range all {
			if src.Name == name {
				return src, nil
			}
		}
		return config.CTISource{}, fmt.Errorf("--cti-source: no source %q in cti.sources", name)
	}
	if len(all) == 0 {
		return config.CTISource{}, errors.New("simulate posts CTI events: cti.token or cti.sources must be configured")
	}
	return all[0], nil
}

// simulatorToken makes (once) the supervisor the simulated operators act as, and a token.
func simulatorToken(ctx context.Context, cfgPath string) (string, error) {
	st, closeFn, err := openStore(ctx, cfgPath)
	if err != nil {
		return "", err
	}
	defer closeFn()
	u, err := st.UserByUsername(ctx, "simulatore")
	if errors.Is(err, store.ErrNotFound) {
		u, err = st.CreateUser(ctx, store.User{Username: "simulatore", Name: "Operatori simulati", Role: store.RoleSupervisor,
			PasswordHash: "!" /* never a valid hash: this user cannot log in */})
	}
	if err != nil {
		return "", err
	}
	return st.CreateToken(ctx, u.ID, store.TokenAPI, 24*time.Hour)
}

// callTime is a moment in opening hours on one of the past days, never in the future.
func (s *simulator) callTime(r *rand.Rand) time.Time {
	loc := s.cfg.Location
	day := s.now.In(loc).AddDate(0, 0, -1-r.IntN(s.days))
	start := time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, loc)
	return start.Add(time.Duration(r.Int64N(int64(12 * time.Hour)))).Truncate(time.Second)
}

func expSeconds(r *rand.Rand, mean float64) int {
	return int(math.Round(r.ExpFloat64() * mean))
}

func (s *simulator) send(ctx context.Context, i int, channel string, c config.Comune, r *rand.Rand, p simProfile) error {
	from := fmt.Sprintf("+39347%07d", r.IntN(10_000_000))
	number := firstOr(c.PhoneNumbers, firstOr(s.cfg.SharedNumbers, "+39055055"))
	s.tally.add(s.tally.sent, channel)
	switch channel {
	case "phone-cti":
		id := fmt.Sprintf("sim-%s-%d", s.run, i)
		at := s.callTime(r)
		ts := func(after int) string { return at.Add(time.Duration(after) * time.Second).Format(time.RFC3339) }
		if err := s.cti(ctx, map[string]string{"event": "newCall", "callId": id, "from": from, "to": number, "direction": "in", "timestamp": ts(0)}); err != nil {
			return err
		}
		if r.Float64() < p.abandon {
			s.tally.mu.Lock()
			s.tally.abandoned++
			s.tally.mu.Unlock()
			return s.cti(ctx, map[string]string{"event": "hangup", "callId": id, "timestamp": ts(1 + expSeconds(r, 2*p.meanWait))})
		}
		wait, talk := expSeconds(r, p.meanWait), max(expSeconds(r, p.meanTalk), 1)
		s.tally.mu.Lock()
		s.tally.answered++
		s.tally.talk += float64(talk)
		s.tally.mu.Unlock()
		if err := s.cti(ctx, map[string]string{"event": "answer", "callId": id, "user": "simulatore", "timestamp": ts(wait)}); err != nil {
			return err
		}
		return s.cti(ctx, map[string]string{"event": "hangup", "callId": id, "timestamp": ts(wait + talk)})
	case "phone-twilio":
		sid := "CA" + randomHexFrom(r, 16)
		form := url.Values{"CallSid": {sid}, "AccountSid": {s.cfg.Twilio.AccountSID}, "From": {from}, "To": {number},
			"CallStatus": {"ringing"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}}
		if err := s.twilio(ctx, "/webhooks/twilio/voice", form); err != nil {
			return err
		}
		form.Set("CallStatus", "completed")
		form.Set("CallDuration", fmt.Sprint(expSeconds(r, p.meanTalk)))
		return s.twilio(ctx, "/webhooks/twilio/voice/status", form)
	case "sms":
		sid := "SM" + randomHexFrom(r, 16)
		return s.twilio(ctx, "/webhooks/twilio/sms", url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {s.cfg.Twilio.AccountSID},
			"From": {from}, "To": {number}, "Body": {simTexts[r.IntN(len(simTexts))]}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"}})
	case "email":
		to := firstOr(c.EmailAddresses, "")
		if to == "" {
			return fmt.Errorf("comune %s has no email address", c.ID)
		}
		sender := fmt.Sprintf("cittadino%d@example.org", r.IntN(1_000_000))
		msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Richiesta\r\nMessage-ID: <sim-%s-%d@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
			sender, to, s.run, i, simTexts[r.IntN(len(simTexts))])
		return s.mail(sender, to, msg)
	case "fax":
		to := firstOr(c.EmailAddresses, "")
		if len(s.cfg.Fax.Gateways) == 0 || to == "" {
			return errors.New("faxes need fax.gateways and a comune email address")
		}
		sender := strings.TrimPrefix(s.cfg.Fax.Gateways[0].Sender, "@")
		if !strings.Contains(sender, "@") {
			sender = "fax@" + sender
		}
		return s.mail(sender, to, faxMail(sender, to, fmt.Sprintf("sim-fax-%s-%d@example.org", s.run, i), "0557"+fmt.Sprint(100000+r.IntN(899999))))
	}
	return fmt.Errorf("unknown channel %q", channel)
}

var simTexts = []string{
	"Buongiorno, domani c'è il blocco del traffico?",
	"Ho ricevuto una multa, come posso pagarla?",
	"Vorrei il permesso ZTL per residenti.",
	"Come chiedo gli incentivi per l'auto elettrica?",
	"Orari dell'ufficio anagrafe?",
}

func randomHexFrom(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 2*n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

func (s *simulator) post(ctx context.Context, path string, body io.Reader, header http.Header) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, body)
	if err != nil {
		return nil, nil, err
	}
	req.Header = header
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode/100 != 2 {
		err = fmt.Errorf("POST %s: %s %s", path, resp.Status, bytes.TrimSpace(b))
	}
	return resp, b, err
}

func (s *simulator) twilio(ctx context.Context, path string, form url.Values) error {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
		"X-Twilio-Signature": {twilio.Signature(s.cfg.Twilio.AuthToken, strings.TrimRight(s.cfg.PublicURL, "/")+path, form)}}
	_, _, err := s.post(ctx, path, strings.NewReader(form.Encode()), h)
	return err
}

func (s *simulator) cti(ctx context.Context, ev map[string]string) error {
	b, _ := json.Marshal(ev)
	_, _, err := s.post(ctx, "/webhooks/cti", bytes.NewReader(b), http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + s.ctiToken}})
	return err
}

func (s *simulator) mail(from, to, msg string) error {
	if s.smtpAddr == "" || strings.HasSuffix(s.smtpAddr, ":0") {
		return errors.New("no SMTP address: give --smtp")
	}
	c, err := smtp.Dial(s.smtpAddr)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }() // after QUIT, or after the error returned
	if err := c.SendMail(from, []string{to}, strings.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

// faxMail is a fax gateway's mail: a short text and a one-page TIFF.
func faxMail(from, to, messageID, faxNumber string) string {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: Fax from %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n",
		from, to, faxNumber, messageID, w.Boundary())
	p, _ := w.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}})
	_, _ = fmt.Fprintf(p, "Fax ricevuto da %s, 1 pagina.\r\n", faxNumber)
	p, _ = w.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/tiff"}, "Content-Transfer-Encoding": {"base64"},
		"Content-Disposition": {`attachment; filename="fax.tif"`}})
	enc := base64Lines(onePageTIFF())
	// All of it goes to memory (a bytes.Buffer), where writes do not fail.
	_, _ = p.Write([]byte(enc))
	_ = w.Close()
	return b.String()
}

func base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var sb strings.Builder
	for len(enc) > 76 {
		sb.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	sb.WriteString(enc + "\r\n")
	return sb.String()
}

// onePageTIFF is a valid one-page bilevel TIFF, 16×2 pixels, uncompressed.
func onePageTIFF() []byte {
	type entry struct {
		tag, typ uint16
		value    uint32
	}
	const dataOffset = 8 + 2 + 9*12 + 4
	entries := []entry{
		{256, 3, 16}, {257, 3, 2}, {258, 3, 1}, {259, 3, 1}, {262, 3, 0},
		{273, 4, dataOffset}, {278, 3, 2}, {279, 4, 4}, {296, 3, 2},
	}
	le := binary.LittleEndian
	b := []byte("II*\x00")
	b = le.AppendUint32(b, 8)
	b = le.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = le.AppendUint16(b, e.tag)
		b = le.AppendUint16(b, e.typ)
		b = le.AppendUint32(b, 1)
		if e.typ == 3 {
			b = le.AppendUint16(b, uint16(e.value))
			b = le.AppendUint16(b, 0)
		} else {
			b = le.AppendUint32(b, e.value)
		}
	}
	b = le.AppendUint32(b, 0) // no next page
	return append(b, 0xff, 0x00, 0x00, 0xff)
}

type openContact struct {
	id, comune, channel string
	abandoned           bool
}

// openContacts lists every open contact through the operator API.
func (s *simulator) openContacts(ctx context.Context) ([]openContact, error) {
	var out []openContact
	cursor := ""
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1/contacts?status=open&limit=200&cursor="+url.QueryEscape(cursor), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := s.http.Do(req)
		if err != nil {
			return nil, err
		}
		var page struct {
			Items []struct {
				ID      string  `json:"id"`
				Channel string  `json:"channel"`
				Comune  *string `json:"comune"`
				Call    *struct {
					Result *string `json:"result"`
				} `json:"call"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("listing contacts: %s %v", resp.Status, err)
		}
		for _, it := range page.Items {
			c := openContact{id: it.ID, channel: it.Channel}
			if it.Comune != nil {
				c.comune = *it.Comune
			}
			c.abandoned = it.Call != nil && it.Call.Result != nil && *it.Call.Result == "abandoned"
			out = append(out, c)
		}
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
}

// reply answers a contact on its own channel through the operator API.
func (s *simulator) reply(ctx context.Context, id string) error {
	b, _ := json.Marshal(map[string]string{"body": "Buongiorno, grazie per averci scritto: la sua richiesta è stata presa in carico."})
	_, _, err := s.post(ctx, "/api/v1/contacts/"+id+"/reply", bytes.NewReader(b), http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + s.token}})
	if err != nil {
		return err
	}
	s.tally.mu.Lock()
	s.tally.replies++
	s.tally.mu.Unlock()
	return nil
}

// resolve closes a contact as an operator would. An outcome its comune has no office for, or
// a forward without an email relay, falls back to first level (counted in the summary).
func (s *simulator) resolve(ctx context.Context, id, comune, outcome, category string) error {
	body := map[string]string{"outcome": outcome, "category": category}
	if outcome != "first_level" {
		office := ""
		if c, ok := s.cfg.ComuneByID(comune); ok {
			for _, o := range c.Offices {
				if (outcome == "transferred_phone" && o.Phone != "") || (outcome == "forwarded_email" && o.Email != "" && s.cfg.Email.Relay != "") {
					office = o.ID
					break
				}
			}
		}
		if office == "" {
			body["outcome"] = "first_level"
			s.tally.mu.Lock()
			s.tally.fallbacks++
			s.tally.mu.Unlock()
		} else {
			body["office"] = office
		}
	}
	b, _ := json.Marshal(body)
	_, _, err := s.post(ctx, "/api/v1/contacts/"+id+"/resolve", bytes.NewReader(b), http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + s.token}})
	if err != nil {
		return err
	}
	s.tally.add(s.tally.outcomes, body["outcome"])
	s.tally.add(s.tally.categories, category)
	return nil
}

func (s *simulator) printSummary(out io.Writer, n int, seed uint64, profile string) error {
	t := s.tally
	var w strings.Builder // written at once below: writes to a Builder cannot fail
	_, _ = fmt.Fprintf(&w, "Simulated %d contacts (profile %s, seed %d) against %s\n", n, profile, seed, s.base)
	section := func(title string, m map[string]int) {
		total := 0
		keys := make([]string, 0, len(m))
		for k, v := range m {
			keys = append(keys, k)
			total += v
		}
		sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
		_, _ = fmt.Fprintln(&w, title)
		for _, k := range keys {
			_, _ = fmt.Fprintf(&w, "  %-22s %8d  %6.2f %%\n", k, m[k], float64(m[k])*100/float64(max(total, 1)))
		}
	}
	section("Sent by channel", t.sent)
	if t.sending > 0 {
		_, _ = fmt.Fprintf(&w, "Sending took %.1f s: %.0f contacts a second\n", t.sending.Seconds(), float64(n)/t.sending.Seconds())
		_, _ = fmt.Fprintln(&w, "Time to the gateway's answer, by channel (p50 / p99 / max)")
		channels := make([]string, 0, len(t.latency))
		for c := range t.latency {
			channels = append(channels, c)
		}
		sort.Strings(channels)
		for _, c := range channels {
			p50, p99, top := percentiles(t.latency[c])
			_, _ = fmt.Fprintf(&w, "  %-22s %8.1f / %6.1f / %6.1f ms\n", c, ms(p50), ms(p99), ms(top))
		}
	}
	section("Resolved by outcome", t.outcomes)
	section("Resolved by category", t.categories)
	_, _ = fmt.Fprintf(&w, "CTI calls answered %d (average talk %.1f s), abandoned %d\n", t.answered, t.talk/float64(max(t.answered, 1)), t.abandoned)
	_, _ = fmt.Fprintf(&w, "Operator replies to SMS, email and fax %d\n", t.replies)
	if t.fallbacks > 0 {
		_, _ = fmt.Fprintf(&w, "%d transfers or forwards had no office (or no email relay) and were resolved at first level\n", t.fallbacks)
	}
	_, err := io.WriteString(out, w.String())
	return err
}

// percentiles returns the median, the 99th percentile and the largest of ds (sorted in place).
func percentiles(ds []time.Duration) (p50, p99, top time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return at(0.50), at(0.99), ds[len(ds)-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
