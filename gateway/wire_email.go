package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"time"

	"github.com/riverqueue/river"

	"github.com/sportello/sportello/adapters/email"
	"github.com/sportello/sportello/adapters/email/pec"
	"github.com/sportello/sportello/adapters/fax"
	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/events"
	"github.com/sportello/sportello/jobs"
	"github.com/sportello/sportello/router"
	"github.com/sportello/sportello/store"
)

// wireEmail connects email and fax: the SMTP server and one poller per IMAP mailbox feed the
// ingest pipeline; mail from a fax gateway becomes a fax there (page counts included); a new
// fax with a TIFF or PDF gets a background job that reads its text (OCR), reroutes it by that
// text and draws a preview of page one; replies leave through the SMTP relay, to a fax number
// through the email-to-fax gateway.
func (g *Gateway) wireEmail(ctx context.Context) error {
	cfg := g.Config
	log := g.Log.With("component", "email")
	parse := email.DefaultParse(cfg.SMTP.MaxMessageBytes)
	senders := senderChecker(cfg.Email.DNSServer)

	detector, err := fax.NewDetector(cfg.Fax.Gateways)
	if err != nil {
		return err
	}
	if len(cfg.Fax.Gateways) > 0 {
		g.Ingest.AddTransform(detector)
	}

	if cfg.Email.Relay != "" {
		relay, err := email.NewRelaySender(email.RelayOptions{Addr: cfg.Email.Relay, From: cfg.Email.From,
			Username: cfg.Email.RelayUsername, Password: cfg.Email.RelayPassword, TLS: cfg.Email.RelayTLS, Timeout: time.Minute})
		if err != nil {
			return fmt.Errorf("email.relay: %w", err)
		}
		g.Senders[channels.Email] = relay
		if cfg.Fax.OutboundDomain != "" {
			g.Senders[channels.Fax] = fax.Sender{Mail: relay, Domain: cfg.Fax.OutboundDomain}
		}
	} else {
		outbox := &outboxSender{s: g.Store}
		g.Senders[channels.Email] = outbox
		if cfg.Fax.OutboundDomain != "" {
			g.Senders[channels.Fax] = fax.Sender{Mail: outbox, Domain: cfg.Fax.OutboundDomain}
		}
		log.Info("no email relay: outbound email goes to the local outbox")
	}

	if err := g.wirePECSender(log); err != nil {
		return err
	}
	var pecRoots *x509.CertPool
	if cfg.Email.PECTrustedRoots != "" {
		if pecRoots, err = pec.LoadRoots(cfg.Email.PECTrustedRoots); err != nil {
			return fmt.Errorf("email.pec_trusted_roots: %w", err)
		}
	} else {
		for _, m := range cfg.IMAP {
			if m.PEC {
				log.Info("no email.pec_trusted_roots: PEC signatures are checked but shown as untrusted, and no PEC receipt changes a message's delivery state")
				break
			}
		}
	}

	if err := g.wireFaxWork(log); err != nil {
		return err
	}

	if cfg.SMTP.Listen != "" {
		if err := g.wireSMTP(parse, senders, log); err != nil {
			return err
		}
	}
	for i, m := range cfg.IMAP {
		var tlsConfig *tls.Config
		if m.InsecureSkipVerify {
			tlsConfig = &tls.Config{InsecureSkipVerify: true} // #nosec G402 -- opted in per mailbox, for test servers
		}
		p, err := email.NewIMAPPoller(email.IMAPOptions{Comune: m.Comune, Address: m.Address, Security: m.Security,
			Username: m.Username, Password: m.Password, Mailbox: m.Mailbox, MoveTo: m.MoveTo, PollInterval: m.PollInterval,
			TLSConfig: tlsConfig, MaxMessageBytes: cfg.SMTP.MaxMessageBytes, Sink: g.Ingest, State: g.Store, Parse: parse,
			Senders: senders, PEC: m.PEC, PECRoots: pecRoots, Receipts: g.Ingest, Logger: log, Metrics: g.Metrics})
		if err != nil {
			return fmt.Errorf("imap[%d]: %w", i, err)
		}
		g.services = append(g.services, service{name: "imap " + p.Key(), run: p.Run})
	}
	return nil
}

// wirePECSender sends replies to pec contacts through the PEC provider's relay, from the
// comune's pec_address (desk sets it on each message); without a relay they go to the local
// outbox, like email without one.
func (g *Gateway) wirePECSender(log *slog.Logger) error {
	r := g.Config.Email.PECRelay
	if r.Address == "" {
		g.Senders[channels.PEC] = &outboxSender{s: g.Store}
		return nil
	}
	from := ""
	for _, c := range g.Config.Comuni {
		if c.PECAddress != "" {
			from = c.PECAddress
			break
		}
	}
	if from == "" {
		log.Warn("email.pec_relay is set but no comune has a pec_address: PEC replies cannot be sent")
		return nil
	}
	var tlsConfig *tls.Config
	if r.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pemData, err := os.ReadFile(r.CAFile)
		if err != nil {
			return fmt.Errorf("email.pec_relay.ca_file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pemData) {
			return fmt.Errorf("email.pec_relay.ca_file: no PEM certificate in %s", r.CAFile)
		}
		tlsConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	relay, err := email.NewRelaySender(email.RelayOptions{Addr: r.Address, From: from, Username: r.Username, Password: r.Password,
		TLS: r.Security, TLSConfig: tlsConfig, Timeout: time.Minute})
	if err != nil {
		return fmt.Errorf("email.pec_relay: %w", err)
	}
	g.Senders[channels.PEC] = relay
	return nil
}

// wireSMTP builds the SMTP server for the comuni's addresses. With port 0 (tests) it binds
// now and writes the address it got back into the config, so SMTPAddr knows it before Run.
func (g *Gateway) wireSMTP(parse email.ParseFunc, senders *email.SenderChecker, log *slog.Logger) error {
	cfg := g.Config
	recipients := map[string]string{}
	for _, c := range cfg.Comuni {
		for _, a := range c.EmailAddresses {
			addr, err := channels.NormalizeEmail(a)
			if err != nil {
				return fmt.Errorf("comune %s: email address %q: %w", c.ID, a, err)
			}
			recipients[addr] = c.ID
		}
	}
	if len(recipients) == 0 {
		log.Warn("smtp.listen is set but no comune has an email address: the SMTP server is not started")
		return nil
	}
	var tlsConfig *tls.Config
	if cfg.SMTP.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.SMTP.TLSCert, cfg.SMTP.TLSKey)
		if err != nil {
			return fmt.Errorf("smtp.tls_cert: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	srv, err := email.NewSMTPServer(email.SMTPOptions{Listen: cfg.SMTP.Listen, Domain: cfg.SMTP.Domain,
		MaxMessageBytes: cfg.SMTP.MaxMessageBytes, MaxRecipients: cfg.SMTP.MaxRecipients, MaxLineLength: cfg.SMTP.MaxLineLength,
		MaxConnections: cfg.SMTP.MaxConnections, ReadTimeout: cfg.SMTP.ReadTimeout, WriteTimeout: cfg.SMTP.WriteTimeout,
		MaxConnectionsPerIP: cfg.SMTP.MaxConnectionsPerIP, IdleTimeout: cfg.SMTP.IdleTimeout, SessionLifetime: cfg.SMTP.SessionLifetime,
		TLSConfig: tlsConfig, Recipients: recipients, Sink: g.Ingest, Parse: parse, Senders: senders, Logger: log, Metrics: g.Metrics})
	if err != nil {
		return err
	}
	if _, port, err := net.SplitHostPort(cfg.SMTP.Listen); err == nil && port == "0" {
		if err := srv.Listen(); err != nil {
			return err
		}
		cfg.SMTP.Listen = srv.Addr()
	}
	g.services = append(g.services, service{name: "smtp", run: srv.ListenAndServe})
	return nil
}

// senderChecker checks senders with the system resolver, or with the DNS server at addr,
// keeping answers for senderDNSTTL.
func senderChecker(addr string) *email.SenderChecker {
	if addr == "" {
		return &email.SenderChecker{Resolver: email.NewCachingResolver(net.DefaultResolver, senderDNSTTL)}
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	return &email.SenderChecker{Resolver: email.NewCachingResolver(&net.Resolver{PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}}, senderDNSTTL)}
}

// senderDNSTTL is how long a sender domain's SPF and DMARC answers are kept: a record changed
// takes effect within a minute, which is short next to DNS's own TTLs.
const senderDNSTTL = time.Minute

// SMTPAddr is the address the SMTP server listens on ("" without one). A configured port 0 is
// replaced by the port bound when the gateway was built.
func (g *Gateway) SMTPAddr() string { return g.Config.SMTP.Listen }

// faxWorkArgs is the background work on one fax document: OCR and a preview.
type faxWorkArgs struct {
	ContactID    string `json:"contact_id"`
	AttachmentID string `json:"attachment_id"`
}

func (faxWorkArgs) Kind() string { return "fax_document" }

// InsertOpts: OCR is CPU-heavy, so it runs on the slow queue, one at a time.
func (faxWorkArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueSlow, MaxAttempts: 3}
}

// wireFaxWork registers the fax document worker (always: a job stored by an earlier run must
// find it) and, when OCR or previews can run here, the hook that enqueues a job for each new
// fax document in the transaction that stores the fax.
func (g *Gateway) wireFaxWork(log *slog.Logger) error {
	classifier, err := router.NewClassifier(g.Config.Categories)
	if err != nil {
		return err
	}
	w := &faxWorker{store: g.Store, events: g.Events, classifier: classifier, queues: router.NewQueues(g.Config.Queues),
		log: log, preview: previewToolsFound()}
	if g.Config.Fax.OCR == "auto" {
		ocr := fax.OCR{Binary: g.Config.Fax.Tesseract}
		if ocr.Available() {
			w.ocr = &ocr
		} else {
			log.Info("fax OCR off: tesseract not found (install tesseract-ocr and tesseract-ocr-ita)", "binary", g.Config.Fax.Tesseract)
		}
	}
	river.AddWorker(g.workers, w)
	if w.ocr == nil && !w.preview {
		return nil
	}
	g.Ingest.AddInTx(func(ctx context.Context, tx *store.Tx, in channels.InboundMessage, r channels.Receipt) error {
		if in.Channel != channels.Fax || r.Duplicate {
			return nil
		}
		docs := map[string]bool{}
		for _, a := range in.Attachments {
			if k := fax.Sniff(a.Data); k == fax.KindTIFF || k == fax.KindPDF {
				sum := sha256.Sum256(a.Data)
				docs[hex.EncodeToString(sum[:])] = true
			}
		}
		if len(docs) == 0 {
			return nil
		}
		jc := g.Jobs // built after the wiring: read it now
		if jc == nil {
			log.Warn("fax OCR skipped: background jobs are not running", "contact", r.ContactID)
			return nil
		}
		stored, err := g.Store.MessageAttachmentsTx(ctx, tx, r.MessageID)
		if err != nil {
			return err
		}
		for _, a := range stored {
			if !docs[a.SHA256] {
				continue
			}
			if _, err := jc.InsertTx(ctx, tx.SQL(), faxWorkArgs{ContactID: r.ContactID, AttachmentID: a.ID}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	return nil
}

// previewToolsFound reports whether the programs fax.Preview uses are installed.
func previewToolsFound() bool {
	for _, bin := range []string{"magick", "convert", "pdftoppm"} {
		if _, err := exec.LookPath(bin); err == nil {
			return true
		}
	}
	return false
}

// starvedOfCPU says whether a document that ran out of its budget did so because its tools
// waited for the CPU (they run at fax.ToolNiceness, behind every request): they used less than
// half of the budget. Such a document is tried again later (River's backoff, MaxAttempts);
// one whose tools did use the CPU is costly in itself, hostile or broken, and is not.
func starvedOfCPU(toolsCPU time.Duration) bool { return toolsCPU < fax.DocumentBudget/2 }

// previewStillToMake says whether this attempt draws the document's preview: not when an
// earlier attempt stored it before running out of its budget on a busy host (it is retried
// for its text), so that a retry does not spend the CPU it lacked on the same page again.
func (w *faxWorker) previewStillToMake(ctx context.Context, job *river.Job[faxWorkArgs]) (bool, error) {
	if !w.preview || job.Attempt <= 1 {
		return w.preview, nil
	}
	_, err := w.store.AttachmentPreview(ctx, job.Args.ContactID, job.Args.AttachmentID, store.Scope{})
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	return false, err
}

// faxWorker reads a fax document: a PNG preview of page one, then its text, which is appended
// to the contact and may reroute it (see store.SetFaxText).
type faxWorker struct {
	river.WorkerDefaults[faxWorkArgs]
	store      *store.Store
	events     events.Publisher
	classifier *router.Classifier
	queues     *router.Queues
	ocr        *fax.OCR
	preview    bool
	log        *slog.Logger
}

func (w *faxWorker) Timeout(*river.Job[faxWorkArgs]) time.Duration { return 4 * time.Minute }

func (w *faxWorker) Work(ctx context.Context, job *river.Job[faxWorkArgs]) error {
	a := job.Args
	c, err := w.store.GetContact(ctx, a.ContactID, store.Scope{})
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("contact %s does not exist", a.ContactID))
	}
	if err != nil {
		return err
	}
	att, data, err := w.store.Attachment(ctx, a.ContactID, a.AttachmentID, store.Scope{})
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("attachment %s of contact %s does not exist", a.AttachmentID, a.ContactID))
	}
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return nil
	}
	log := w.log.With("contact", a.ContactID, "attachment", a.AttachmentID, "file", att.Filename)
	// Fax documents are read one at a time: one document's budget is the next fax's wait.
	docCtx, cancel := context.WithTimeout(ctx, fax.DocumentBudget)
	defer cancel()
	cpuAtStart, cpuErr := fax.ToolsCPU()
	overBudget := func(err error) error {
		if cpuErr == nil && errors.Is(docCtx.Err(), context.DeadlineExceeded) {
			if cpuNow, err2 := fax.ToolsCPU(); err2 == nil && starvedOfCPU(cpuNow-cpuAtStart) {
				log.Warn("fax document not read within its budget on a busy host: trying again later", "budget", fax.DocumentBudget,
					"tools_cpu", cpuNow-cpuAtStart, "err", err)
				return fmt.Errorf("fax document: its tools had %v of CPU in its %v budget, on a busy host: %w", cpuNow-cpuAtStart, fax.DocumentBudget, err)
			}
		}
		log.Warn("fax document over its budget: not read, not retried", "budget", fax.DocumentBudget, "err", err)
		return river.JobCancel(fmt.Errorf("fax document over its budget: %w", err))
	}
	changed := false
	makePreview, err := w.previewStillToMake(ctx, job)
	if err != nil {
		return err
	}
	if makePreview {
		png, err := fax.Preview(docCtx, data, att.ContentType)
		switch {
		case err == nil:
			if err := w.store.SetAttachmentPreview(ctx, a.AttachmentID, png); err != nil {
				return err
			}
			changed = true
		case ctx.Err() != nil:
			return ctx.Err()
		case docCtx.Err() != nil:
			return overBudget(err)
		default:
			// A document the tools cannot draw will not draw on a retry either.
			log.Warn("fax preview not made", "err", err)
		}
	}
	if w.ocr != nil {
		text, err := w.ocr.Text(docCtx, data, att.ContentType)
		var missing *fax.MissingToolError
		switch {
		case err == nil:
			category := w.classifier.Classify(c.Subject + "\n" + text)
			comune := ""
			if c.Comune != nil {
				comune = *c.Comune
			}
			q := w.queues.Match(comune, category, c.Channel)
			rerouted, err := w.store.SetFaxText(ctx, store.FaxText{ContactID: a.ContactID, AttachmentID: a.AttachmentID, Text: text,
				Routing:     store.Routing{Category: category, Queue: q.ID, Priority: q.Priority, SLADue: router.SLADue(q, c.ReceivedAt)},
				Replaceable: []string{router.FallbackCategory}})
			if err != nil {
				return err
			}
			changed = true
			log.Info("fax read", "chars", len(text), "category", category, "rerouted", rerouted)
		case errors.As(err, &missing):
			log.Warn("fax OCR not possible here", "err", err)
		case ctx.Err() != nil:
			return ctx.Err()
		case docCtx.Err() != nil || errors.Is(err, fax.ErrTooManyPagesToRead):
			return overBudget(err)
		default:
			// Worth a retry (a timeout on a loaded host); River gives up after MaxAttempts.
			return fmt.Errorf("fax OCR: %w", err)
		}
	}
	if changed {
		ev := events.Event{Type: events.ContactUpdated, ContactID: a.ContactID}
		if c.Comune != nil {
			ev.Comune = *c.Comune
		}
		if err := w.events.Publish(ctx, ev); err != nil {
			log.Warn("publishing the fax update failed", "err", err)
		}
	}
	return nil
}
