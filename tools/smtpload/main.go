// Command smtpload measures SMTP ingest: N connections each deliver messages of about 3 KB of
// realistic Italian text (each with its own Message-ID) back to back over one SMTP session, and
// it reports the rate and the latency percentiles of MAIL FROM to the reply to DATA. Afterwards
// it can count what the receiver really stored: in a Sportello database (-data-dir or
// -database-url), through a Sportello API (-api and -token), or in mailpit (-mailpit).
//
//	smtpload -addr 127.0.0.1:2525 -conns 8 -n 20000 -data-dir /tmp/sportello-bench
//
// "smtpload dns -listen 127.0.0.1:5354" runs a DNS server for the gateway's email.dns_server,
// as a mail server's local resolver would be: every sender domain publishes SPF allowing the
// loopback, and no DMARC record. The gateway checks every message's sender before its 250.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/integration/fakedns"
	"github.com/sportello/sportello/store"
)

// serveDNS answers the gateway's sender checks until the process is killed.
func serveDNS(args []string) error {
	fs := flag.NewFlagSet("smtpload dns", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:5354", "UDP address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv, err := fakedns.Start(*listen, func(name string) (string, bool) {
		if strings.HasPrefix(name, "_") { // _dmarc.*, DKIM selectors
			return "", false
		}
		return "v=spf1 ip4:127.0.0.0/8 -all", true
	})
	if err != nil {
		return err
	}
	fmt.Println("dns on", srv.Addr())
	select {}
}

// Result is one run's numbers (printed as JSON on the last line).
type Result struct {
	Target     string  `json:"target"`
	Conns      int     `json:"conns"`
	Sent       int     `json:"sent"`
	Accepted   int64   `json:"accepted"`
	Failed     int64   `json:"failed"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"msgs_per_second"`
	P50ms      float64 `json:"p50_ms"`
	P90ms      float64 `json:"p90_ms"`
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	AvgBytes   int     `json:"avg_bytes"`
	Stored     int     `json:"stored"`
	Verified   string  `json:"verified,omitempty"`
	FirstError string  `json:"first_error,omitempty"`
	// Errors counts failures by SMTP code ("dial" and "io" for the others).
	Errors map[string]int64 `json:"errors,omitempty"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "smtpload:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "dns" {
		return serveDNS(args[1:])
	}
	fs := flag.NewFlagSet("smtpload", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:2525", "SMTP server (loopback only: this is a load generator)")
	conns := fs.Int("conns", 8, "concurrent SMTP connections")
	n := fs.Int("n", 10000, "messages in total")
	to := fs.String("to", "urp@comune.fi.it", "recipient")
	size := fs.Int("size", 3000, "approximate message size in bytes")
	label := fs.String("label", "", "name of the target in the report")
	warmup := fs.Int("warmup", 200, "messages sent before measuring (not counted)")
	dataDir := fs.String("data-dir", "", "verify: the Sportello data_dir (SQLite)")
	dbURL := fs.String("database-url", "", "verify: the Sportello PostgreSQL URL")
	api := fs.String("api", "", "verify: the Sportello base URL (with -token)")
	token := fs.String("token", "", "verify: an API token")
	mailpit := fs.String("mailpit", "", "verify: mailpit's web/API base URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !strings.HasPrefix(*addr, "127.") && !strings.HasPrefix(*addr, "localhost:") && !strings.HasPrefix(*addr, "[::1]:") {
		return fmt.Errorf("refusing to load %s: loopback targets only", *addr)
	}
	if *conns < 1 || *n < *conns {
		return errors.New("need -conns >= 1 and -n >= -conns")
	}
	if *label == "" {
		*label = *addr
	}
	runID := fmt.Sprintf("%x", time.Now().UnixNano())
	prefix := "smtpload-" + runID + "-"
	httpClient := &http.Client{Timeout: 30 * time.Second}

	if err := waitReady(*addr, 30*time.Second); err != nil {
		return err
	}
	if *warmup > 0 {
		if _, err := load(*addr, *to, "warmup-"+prefix, *size, min(*conns, *warmup), *warmup); err != nil {
			return fmt.Errorf("warmup: %w", err)
		}
	}
	mailpitBefore := 0
	if *mailpit != "" {
		var err error
		if mailpitBefore, err = mailpitTotal(httpClient, *mailpit); err != nil {
			return err
		}
	}
	res, err := load(*addr, *to, prefix, *size, *conns, *n)
	if err != nil {
		return err
	}
	res.Target = *label

	switch {
	case *dataDir != "" || *dbURL != "":
		res.Stored, err = countStore(*dataDir, *dbURL, prefix)
		res.Verified = "database"
	case *api != "":
		res.Stored, err = countAPI(httpClient, *api, *token, prefix, *n)
		res.Verified = "api"
	case *mailpit != "":
		var after int
		after, err = mailpitTotal(httpClient, *mailpit)
		res.Stored = after - mailpitBefore
		res.Verified = "mailpit"
	default:
		res.Stored = -1
	}
	if err != nil {
		return fmt.Errorf("verifying: %w", err)
	}
	fmt.Fprintf(os.Stderr, "%s: %d msgs over %d conns in %.2fs = %.0f msgs/s; latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; accepted %d, failed %d, stored %d (%s)\n",
		res.Target, res.Sent, res.Conns, res.Seconds, res.PerSecond, res.P50ms, res.P90ms, res.P99ms, res.MaxMs,
		res.Accepted, res.Failed, res.Stored, res.Verified)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if res.Stored >= 0 && int64(res.Stored) < res.Accepted {
		return fmt.Errorf("%d messages were accepted but only %d stored", res.Accepted, res.Stored)
	}
	return nil
}

// waitReady waits until the server greets (a target still starting up is not a failure of
// the measured run).
func waitReady(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := smtp.Dial(addr)
		if err == nil {
			err = c.Noop()
			_ = c.Close() // a probe connection: only Noop's answer matters
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w", addr, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// load sends n messages over conns connections and measures each.
func load(addr, to, prefix string, size, conns, n int) (Result, error) {
	var next, accepted, failed int64
	var firstErr atomic.Value
	var errMu sync.Mutex
	errCounts := map[string]int64{}
	countErr := func(kind string) {
		errMu.Lock()
		errCounts[kind]++
		errMu.Unlock()
	}
	lat := make([][]time.Duration, conns)
	var bytesSent int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			var c *smtp.Client
			defer func() {
				if c != nil {
					// The run is over; a session that cannot say goodbye changes no result.
					_ = c.Quit()
					_ = c.Close()
				}
			}()
			for {
				i := atomic.AddInt64(&next, 1)
				if i > int64(n) {
					return
				}
				if c == nil {
					var err error
					if c, err = smtp.Dial(addr); err != nil {
						firstErr.CompareAndSwap(nil, err.Error())
						countErr("dial")
						atomic.AddInt64(&failed, 1)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					c.CommandTimeout, c.SubmissionTimeout = 30*time.Second, 60*time.Second
				}
				from, msg := message(rng, prefix, i, to, size)
				atomic.AddInt64(&bytesSent, int64(len(msg)))
				t0 := time.Now()
				err := c.SendMail(from, []string{to}, strings.NewReader(msg))
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
					atomic.AddInt64(&failed, 1)
					var se *smtp.SMTPError
					if errors.As(err, &se) {
						countErr(fmt.Sprint(se.Code))
					} else { // a broken connection: start a new one
						countErr("io")
						_ = c.Close() // already broken, and counted above
						c = nil
					}
					continue
				}
				atomic.AddInt64(&accepted, 1)
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	res := Result{Conns: conns, Sent: n, Accepted: accepted, Failed: failed, Seconds: elapsed.Seconds(),
		PerSecond: float64(accepted) / elapsed.Seconds(), P50ms: pct(.50), P90ms: pct(.90), P99ms: pct(.99), MaxMs: pct(1),
		AvgBytes: int(bytesSent / int64(n))}
	if v, ok := firstErr.Load().(string); ok {
		res.FirstError = v
		res.Errors = errCounts
	}
	return res, nil
}

var (
	nomi      = []string{"Mario", "Giulia", "Luca", "Francesca", "Marco", "Chiara", "Alessandro", "Sara", "Giovanni", "Elena", "Paolo", "Martina", "Stefano", "Anna", "Roberto", "Silvia"}
	cognomi   = []string{"Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "Mancini", "Costa", "Giordano", "Lombardi", "Moretti", "Barbieri"}
	vie       = []string{"via dei Neri", "via Roma", "viale Europa", "via Sanzio", "piazza della Repubblica", "via Verdi", "via Gramsci", "borgo San Frediano", "via Pistoiese", "viale Redi"}
	oggetti   = []string{"Richiesta permesso ZTL", "Contravvenzione n. %d: richiesta di annullamento", "Segnalazione buca stradale", "Blocco del traffico di domani", "Lampione spento", "Rifiuti non raccolti", "Informazioni incentivi auto elettriche", "Reclamo per il servizio", "Richiesta certificato di residenza", "Albero pericolante"}
	paragrafi = []string{
		"Gentili signori, vi scrivo per segnalare che in %s da alcuni giorni la situazione è peggiorata e nessuno è ancora intervenuto, nonostante le numerose segnalazioni dei residenti.",
		"Ho ricevuto una contravvenzione per accesso alla zona a traffico limitato, ma sono titolare di un permesso regolarmente rinnovato lo scorso mese: allego copia della ricevuta di pagamento.",
		"Vorrei sapere se domani è previsto il blocco della circolazione per i veicoli diesel euro 4 e in quali fasce orarie, perché devo accompagnare mio padre a una visita in ospedale.",
		"Il lampione all'angolo con %s è spento da più di una settimana e la sera la strada è completamente al buio: è pericoloso soprattutto per i pedoni e per chi va in bicicletta.",
		"Desidero informazioni sugli incentivi comunali per la sostituzione dei veicoli inquinanti: quali sono i requisiti, entro quando va presentata la domanda e quali documenti servono?",
		"I cassonetti della raccolta differenziata in %s non vengono svuotati da lunedì e i sacchi si accumulano sul marciapiede, con cattivi odori e animali che rovistano nei rifiuti.",
		"Vi ringrazio in anticipo per l'attenzione e resto a disposizione per qualsiasi chiarimento: potete contattarmi a questo indirizzo oppure al numero di telefono indicato qui sotto.",
		"Faccio presente che la stessa segnalazione era già stata inviata tramite il modulo sul sito del Comune, senza ricevere alcuna risposta, e per questo mi rivolgo a voi per email.",
	}
)

// message builds one realistic message of about size bytes with a unique Message-ID.
func message(rng *rand.Rand, prefix string, i int64, to string, size int) (from, msg string) {
	nome, cognome := nomi[rng.IntN(len(nomi))], cognomi[rng.IntN(len(cognomi))]
	from = fmt.Sprintf("%s.%s%d@example.it", strings.ToLower(nome), strings.ToLower(cognome), rng.IntN(100000))
	subject := oggetti[rng.IntN(len(oggetti))]
	if strings.Contains(subject, "%d") {
		subject = fmt.Sprintf(subject, 100000+rng.IntN(900000))
	}
	var body strings.Builder
	body.WriteString("Buongiorno,\r\n\r\n")
	for body.Len() < size-450 {
		p := paragrafi[rng.IntN(len(paragrafi))]
		if strings.Contains(p, "%s") {
			p = fmt.Sprintf(p, vie[rng.IntN(len(vie))])
		}
		body.WriteString(wrap(p, 72))
		body.WriteString("\r\n\r\n")
	}
	fmt.Fprintf(&body, "Cordiali saluti,\r\n%s %s\r\n%s %d, Firenze\r\n", nome, cognome, vie[rng.IntN(len(vie))], 1+rng.IntN(120))
	msg = "From: " + nome + " " + cognome + " <" + from + ">\r\n" +
		"To: " + to + "\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: <" + prefix + fmt.Sprint(i) + "@bench.example>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"\r\n" + body.String()
	return from, msg
}

func wrap(s string, width int) string {
	var b strings.Builder
	line := 0
	for _, w := range strings.Fields(s) {
		if line > 0 && line+1+len(w) > width {
			b.WriteString("\r\n")
			line = 0
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// countStore counts this run's messages in a Sportello database.
func countStore(dataDir, dbURL, prefix string) (int, error) {
	s, err := store.Open(context.Background(), store.Options{URL: dbURL, DataDir: dataDir})
	if err != nil {
		return 0, err
	}
	var n int
	err = s.QueryRow(context.Background(), "SELECT COUNT(*) FROM messages WHERE channel = 'email' AND external_id LIKE ?", prefix+"%").Scan(&n)
	return n, errors.Join(err, s.Close())
}

// countAPI pages through the newest email contacts until it has seen the whole run.
func countAPI(c *http.Client, base, token, prefix string, n int) (int, error) {
	count, cursor := 0, ""
	for pages := 0; pages < n/100+100; pages++ {
		u := strings.TrimRight(base, "/") + "/api/v1/contacts?channel=email&limit=100"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		var page struct {
			Items []struct {
				ExternalID string `json:"external_id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		if err != nil {
			return 0, err
		}
		for _, it := range page.Items {
			if strings.HasPrefix(it.ExternalID, prefix) {
				count++
			}
		}
		if page.NextCursor == "" || count >= n {
			break
		}
		cursor = page.NextCursor
	}
	return count, nil
}

// mailpitTotal is how many messages mailpit holds.
func mailpitTotal(c *http.Client, base string) (int, error) {
	resp, err := c.Get(strings.TrimRight(base, "/") + "/api/v1/messages?limit=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("mailpit: %s %s", resp.Status, b)
	}
	var v struct {
		Total int `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, err
	}
	return v.Total, nil
}
