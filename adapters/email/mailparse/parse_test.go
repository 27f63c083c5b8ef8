package mailparse

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/channels"
)

var fixedNow = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func testOptions() Options { return Options{Now: func() time.Time { return fixedNow }} }

type wantAttachment struct {
	filename    string
	contentType string
	size        int
	sha256      string
}

type want struct {
	id         string
	from       string
	fromName   string
	to         string
	subject    string
	inReplyTo  string
	references []string
	autoReply  bool
	receivedAt time.Time
	body       string
	atts       []wantAttachment
	notes      []string
}

const (
	pdfSHA    = "e5a636ac00ea3c175d3193c5d05df60ded156dd466043c70d254507ec277e4c2"
	alberoSHA = "280467d9a41a3af7dd0beff4a3ce4154f245e927a10350c5330ea211552ce8f9"
	emptySHA  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

func rome(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, time.FixedZone("CET", 3600)).UTC()
}

var fixtures = map[string]want{
	"01_plain_utf8.eml": {
		id: "CAF3x9=ab12@mail.libero.it", from: "giulia.bianchi@libero.it", fromName: "Giulia Bianchi",
		to: "urp@comune.fi.it", subject: "Richiesta informazioni sulla TARI – scadenza",
		receivedAt: rome(2026, 11, 16, 9, 12, 45),
		body: "Buongiorno,\nvorrei sapere entro quando va pagata la seconda rata della TARI 2026.\n" +
			"L'avviso è arrivato a mio padre, che però è deceduto a settembre: a chi\n" +
			"devo rivolgermi per la voltura?\n\nGrazie e cordiali saluti,\nGiulia Bianchi",
	},
	"02_latin1_qp.eml": {
		id: "000001db3f$a1b2c3d4$@tiscali.it", from: "nicolo.ferra@tiscali.it", fromName: "Nicolò Ferrà",
		to: "urp@comune.fi.it", subject: "Multa per divieto di sosta è già pagata",
		receivedAt: rome(2026, 11, 17, 11, 3, 10),
		body: "Buongiorno,\nho ricevuto il verbale n. 4521/2026 per divieto di sosta in piazza della " +
			"Libertà, ma la multa è già stata pagata il 3 novembre presso l'ufficio postale.\n" +
			"Perché mi arriva il sollecito?\n\nNicolò Ferrà",
	},
	"03_windows1252_euro.eml": {
		id: "5f0e2a9c-1d2b-4c8e-9a77-0b1c2d3e4f50@outlook.it", from: "mario.rossi@outlook.it",
		fromName: "Rossi, Mario", to: "permessi.ztl@comune.fi.it", subject: "Rimborso di 45 € per il permesso ZTL",
		receivedAt: time.Date(2026, 11, 18, 16, 45, 0, 0, time.UTC),
		body: "Gentile ufficio,\nho pagato due volte il rinnovo del “permesso residenti”: l’importo di 45 € – " +
			"addebitato il 10/11 – risulta doppio.\nChiedo il rimborso sull’IBAN già comunicato.\n\nMario Rossi",
	},
	"04_html_only.eml": {
		id: "html-only-0042@gmail.com", from: "marco.neri@gmail.com", fromName: "Marco Neri",
		to: "urp@comune.fi.it", subject: "Segnalazione buca in via dei Calzaiuoli",
		receivedAt: rome(2026, 11, 19, 8, 30, 0),
		body: "Gentile URP,\n\nsegnalo una buca pericolosa in via dei Calzaiuoli all'altezza del civico 12.\n\n" +
			"- Foto scattata il 14/11\n- Profondità circa 20 cm\n\n" +
			"Mappa: vedi posizione (https://maps.example.it/?q=43.77,11.25) – clicca qui\n\n" +
			"Marco Neri\nTel. 333 1234567",
	},
	"05_pdf_attachment.eml": {
		id: "20261120101500.77AB@pec.aruba.it", from: "lucia.esposito@pec.it", fromName: "Lucia Esposito",
		to: "urp@comune.fi.it", subject: "Invio ricevuta pagamento", receivedAt: rome(2026, 11, 20, 10, 15, 0),
		body: "In allegato la ricevuta del pagamento della sanzione.\n\nLucia Esposito",
		atts: []wantAttachment{{"ricevuta_pagamento.pdf", "application/pdf", 193, pdfSHA}},
	},
	"06_rfc2231_filename.eml": {
		id: "rfc2231.9981@comune.empoli.fi.it", from: "pm@comune.empoli.fi.it", fromName: "Polizia Municipale Empoli",
		to: "urp@comune.fi.it", subject: "Verbale e ricevuta", receivedAt: rome(2026, 11, 20, 12, 0, 0),
		body: "Si trasmettono i documenti richiesti.",
		atts: []wantAttachment{
			{"verbale_n°123.pdf", "application/pdf", 193, pdfSHA},
			{"ricevuta pagamento multa n° 456.pdf", "application/pdf", 193, pdfSHA},
			{"Foto_via_Martiri_della_Libertà.jpg", "image/jpeg", 395, alberoSHA},
		},
	},
	"07_forwarded_rfc822.eml": {
		id: "fwd-0001@comune.fi.it", from: "paolo.gialli@comune.fi.it", fromName: "Paolo Gialli",
		to: "urp@comune.fi.it", subject: "I: Albero caduto in via Bolognese", receivedAt: rome(2026, 11, 16, 8, 5, 0),
		body: "Vi inoltro la segnalazione ricevuta sabato dalla PM.\n\nPaolo\n\n" +
			"---------- Messaggio inoltrato ----------\n" +
			"Da: Anna Verdi <anna.verdi@pec.it>\n" +
			"Data: Sat, 14 Nov 2026 18:40:02 +0100\n" +
			"Oggetto: Albero caduto in via Bolognese – urgente\n" +
			"A: Polizia Municipale <pm@comune.fi.it>\n\n" +
			"Buonasera, un albero è caduto sulla carreggiata all'altezza del civico 88.\nLa strada è bloccata.\n" +
			"---------- Fine messaggio inoltrato ----------",
		atts: []wantAttachment{{"albero.jpg", "image/jpeg", 395, alberoSHA}},
	},
	"08_out_of_office.eml": {
		id: "ooo-20261116@comune.sesto-fiorentino.fi.it", from: "tributi@comune.sesto-fiorentino.fi.it",
		fromName: "Ufficio Tributi", to: "urp@comune.fi.it",
		subject: "Risposta automatica: Richiesta informazioni sulla TARI", inReplyTo: "CAF3x9=ab12@mail.libero.it",
		autoReply: true, receivedAt: rome(2026, 11, 16, 9, 13, 2),
		body: "Sono fuori ufficio fino al 23 novembre con accesso limitato alla posta.\n" +
			"Per urgenze contattare il numero 055 4496111.",
	},
	"09_bounce_dsn.eml": {
		id: "20261116091300.DSN.1@mx.comune.fi.it", from: "mailer-daemon@mx.comune.fi.it",
		fromName: "Mail Delivery System", to: "urp@comune.fi.it", subject: "Undelivered Mail Returned to Sender",
		autoReply: true, receivedAt: rome(2026, 11, 16, 9, 13, 0),
		body: "Il messaggio non è stato consegnato a uno o più destinatari.\n\n" +
			"<mario.rossi@esempio-inesistente.it>: host non trovato\n\n" +
			"Reporting-MTA: dns; mx.comune.fi.it\n\n" +
			"Final-Recipient: rfc822; mario.rossi@esempio-inesistente.it\nAction: failed\nStatus: 5.1.2",
		atts: []wantAttachment{{"allegato-1.txt", "text/rfc822-headers", 138,
			"464d62ffafb2cb003cd1693b0f2d0b6940d9144f2fb639503d5ed7ec72ffe9dd"}},
	},
	"10_truncated_base64.eml": {
		id: "trunc-8812@alice.it", from: "carla.russo@alice.it", fromName: "Carla Russo",
		to: "urp@comune.fi.it", subject: "Foto della buca", receivedAt: rome(2026, 11, 17, 19, 20, 0),
		body: "Ecco la foto della buca in via Pistoiese.",
		// The first 1053 bytes of the original 1166-byte JPEG: everything the data still held.
		atts: []wantAttachment{{"foto_buca.jpg", "image/jpeg", 1053,
			"4b3caf22ec9fe6ab1347e229ad3b8ee1b184134343bcd0b84fedf8cfa4ca9c7c"}},
		notes: []string{
			`allegato "foto_buca.jpg": dati base64 troncati, conservati 1053 byte`,
			"multipart/mixed non chiuso: il messaggio potrebbe essere troncato",
		},
	},
	"11_zero_byte_attachment.eml": {
		id: "vuoto-3@virgilio.it", from: "franco.gallo@virgilio.it", fromName: "Franco Gallo",
		to: "urp@comune.fi.it", subject: "Modulo residenza", receivedAt: rome(2026, 11, 18, 7, 55, 0),
		body:  "Allego il modulo compilato.",
		atts:  []wantAttachment{{"modulo_residenza.pdf", "application/pdf", 0, emptySHA}},
		notes: []string{`allegato "modulo_residenza.pdf" vuoto (0 byte)`},
	},
	"12_reply_threading.eml": {
		id: "b7e1c0de-re-2@libero.it", from: "giulia.bianchi@libero.it", fromName: "Giulia Bianchi",
		to: "urp@comune.fi.it", subject: "Re: [Pratica 1234] Richiesta informazioni sulla TARI",
		inReplyTo:  "risposta-1234.1@comune.fi.it",
		references: []string{"CAF3x9=ab12@mail.libero.it", "risposta-1234.1@comune.fi.it"},
		receivedAt: rome(2026, 11, 17, 10, 1, 0),
		// format=flowed soft breaks are joined, in the quote too.
		body: "Grazie mille, passerò allo sportello di via Giotto giovedì mattina con il certificato di morte.\n\n" +
			"Il 16/11/2026 12:30, URP Comune di Firenze ha scritto:\n" +
			"> Gentile signora, per la voltura deve presentare il modulo TARI-V allo sportello.",
	},
	"13_no_message_id.eml": {
		// id is the SHA-256 of the raw file, checked separately.
		from: "sindaco.fan@example.org", to: "urp@comune.fi.it", subject: "complimenti",
		receivedAt: fixedNow, body: "Complimenti per il nuovo servizio!",
	},
	"14_unknown_charset.eml": {
		id: "strano-1@example.net", from: "elena.conti@example.net", fromName: "Elena Conti",
		to: "urp@comune.fi.it", subject: "Orari biblioteca", receivedAt: rome(2026, 11, 19, 13, 0, 0),
		body:  "Qual è l'orario della biblioteca delle Oblate a dicembre?",
		notes: []string{`testo del messaggio: set di caratteri sconosciuto "x-sconosciuto-42": letto come UTF-8`},
	},
	"15_alternative_inline_image.eml": {
		id: "alt-rel-9@comune.bagno-a-ripoli.fi.it", from: "stampa@comune.bagno-a-ripoli.fi.it",
		fromName: "Ufficio Stampa Bagno a Ripoli", to: "urp@comune.fi.it", subject: "Chiusura uffici 8 dicembre",
		receivedAt: rome(2026, 11, 19, 15, 30, 0),
		body:       "Gli uffici comunali resteranno chiusi lunedì 8 dicembre.",
		// The inline image of the HTML version is kept though the plain version was chosen.
		atts: []wantAttachment{{"allegato-1.png", "image/png", 282,
			"915cb8d1fd086d3900f183fcd7b5c5e361ece026dc173adf47d2e88bbe6dfb57"}},
	},
	"16_broken_mime.eml": {
		id: "rotto-1@example.com", from: "utente@example.com", fromName: "Utente",
		to: "urp@comune.fi.it", subject: "Segnalazione lampione spento",
		receivedAt: rome(2026, 11, 19, 17, 0, 0),
		body:       "Il lampione in via Faenza 10 è spento da una settimana.",
		notes:      []string{`multipart/mixed: boundary "manca" non trovato, usato "diverso" trovato nel testo`},
	},
}

func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(fixtures) {
		t.Fatalf("%d fixture files, %d expectations", len(files), len(fixtures))
	}
	for _, f := range files {
		name := filepath.Base(f)
		w, ok := fixtures[name]
		if !ok {
			t.Errorf("no expectation for %s", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in, err := Parse(bytes.NewReader(raw), testOptions())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if w.id == "" {
				sum := sha256.Sum256(raw)
				w.id = "sha256-" + hex.EncodeToString(sum[:]) + "@sportello.invalid"
			}
			check := func(field string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s:\n got %q\nwant %q", field, got, want)
				}
			}
			check("Channel", in.Channel, channels.Email)
			check("ExternalID", in.ExternalID, w.id)
			check("MessageID", in.MessageID, w.id)
			check("From", in.From, w.from)
			check("FromName", in.FromName, w.fromName)
			check("To", in.To, w.to)
			check("Subject", in.Subject, w.subject)
			check("InReplyTo", in.InReplyTo, w.inReplyTo)
			check("References", in.References, w.references)
			check("AutoReply", in.AutoReply, w.autoReply)
			check("Body", in.Body, w.body)
			check("Notes", in.Notes, w.notes)
			if !in.ReceivedAt.Equal(w.receivedAt) {
				t.Errorf("ReceivedAt = %v, want %v", in.ReceivedAt, w.receivedAt)
			}
			var got []wantAttachment
			for _, a := range in.Attachments {
				sum := sha256.Sum256(a.Data)
				if a.Size != int64(len(a.Data)) {
					t.Errorf("attachment %q: Size %d, data %d bytes", a.Filename, a.Size, len(a.Data))
				}
				got = append(got, wantAttachment{a.Filename, a.ContentType, len(a.Data), hex.EncodeToString(sum[:])})
			}
			if !reflect.DeepEqual(got, w.atts) {
				t.Errorf("attachments:\n got %+v\nwant %+v", got, w.atts)
			}
		})
	}
}

// A message imported twice without a Message-ID gets the same id both times, and a different
// message gets a different one.
func TestSynthesizedIDIsStable(t *testing.T) {
	raw, err := os.ReadFile("testdata/13_no_message_id.eml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Parse(bytes.NewReader(raw), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(bytes.NewReader(raw), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.ExternalID != b.ExternalID || !strings.HasPrefix(a.ExternalID, "sha256-") || !strings.HasSuffix(a.ExternalID, "@sportello.invalid") {
		t.Fatalf("ids %q and %q", a.ExternalID, b.ExternalID)
	}
	c, err := Parse(bytes.NewReader(append(raw, '!')), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if c.ExternalID == a.ExternalID {
		t.Fatal("different messages got the same synthesized id")
	}
}

func TestNotAMessage(t *testing.T) {
	cases := map[string]string{
		"empty":        "",
		"blank":        "\r\n\r\n  \n",
		"plain text":   "Buongiorno, vorrei informazioni sulla TARI.\n",
		"http request": "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n",
		"binary":       "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
		"no known key": "Ciao: come stai\n\ntutto bene\n",
	}
	for name, input := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(input), testOptions())
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
		})
	}
}

func TestReaderErrorIsReturned(t *testing.T) {
	boom := errors.New("connection reset")
	r := iotest.TimeoutReader(strings.NewReader("From: a@b.it\r\n\r\nciao"))
	_, err := Parse(r, testOptions())
	if err == nil {
		t.Fatal("no error from a failing reader")
	}
	var pe *ParseError
	if errors.As(err, &pe) {
		t.Fatalf("a read failure must not look like bad input: %v", err)
	}
	_, err = Parse(iotest.ErrReader(boom), testOptions())
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v", err, boom)
	}
}

func TestInvalidOptions(t *testing.T) {
	for _, o := range []Options{{MaxParts: -1}, {MaxDepth: -2}, {MaxAttachmentBytes: -3}} {
		if _, err := Parse(strings.NewReader("From: a@b.it\r\n\r\nx"), o); err == nil {
			t.Errorf("Parse with %+v: no error", o)
		}
	}
}

// The same message with LF line endings (as a Maildir holds it) reads the same.
func TestLFEqualsCRLF(t *testing.T) {
	for _, name := range []string{"05_pdf_attachment.eml", "07_forwarded_rfc822.eml", "09_bounce_dsn.eml"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		crlf, err := Parse(bytes.NewReader(raw), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		lf, err := Parse(bytes.NewReader(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		if crlf.Body != lf.Body || len(crlf.Attachments) != len(lf.Attachments) {
			t.Errorf("%s: LF and CRLF differ:\n%q\n%q", name, crlf.Body, lf.Body)
		}
		for i := range crlf.Attachments {
			// Unencoded text attachments keep their own line endings; compare content.
			a := bytes.ReplaceAll(crlf.Attachments[i].Data, []byte("\r\n"), []byte("\n"))
			if !bytes.Equal(a, lf.Attachments[i].Data) {
				t.Errorf("%s: attachment %d differs", name, i)
			}
		}
	}
}

func TestThousandsOfParts(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: spam@example.com\r\nTo: urp@comune.fi.it\r\nSubject: parti\r\n" +
		"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nCorpo.\r\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "--x\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=p%d.bin\r\n\r\n%d\r\n", i, i)
	}
	b.WriteString("--x--\r\n")
	start := time.Now()
	in, err := Parse(strings.NewReader(b.String()), Options{MaxParts: 100})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second { // shared host; quadratic would take minutes
		t.Errorf("took %v", d)
	}
	if in.Body != "Corpo." {
		t.Errorf("body %q", in.Body)
	}
	// 98 parts read (the message itself and the text count too), the rest kept raw in one piece.
	if len(in.Attachments) != 99 {
		t.Fatalf("%d attachments, want 98 read + 1 unread", len(in.Attachments))
	}
	last := in.Attachments[len(in.Attachments)-1]
	if last.Filename != "parti-non-lette-99.eml" || !bytes.HasPrefix(last.Data, []byte("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=p98.bin")) ||
		!bytes.HasSuffix(last.Data, []byte("4999\r\n--x--\r\n")) {
		t.Errorf("unread remainder %q: %.80q ... %q", last.Filename, last.Data, last.Data[max(0, len(last.Data)-20):])
	}
	if len(in.Notes) != 1 || !strings.Contains(in.Notes[0], "più di 100 parti") {
		t.Errorf("notes %q", in.Notes)
	}
}

func TestDeepNesting(t *testing.T) {
	const levels = 1000
	var b strings.Builder
	b.WriteString("From: a@example.com\r\nSubject: nidi\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
	}
	fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\nin fondo\r\n", levels-1)
	for i := levels - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	in, err := Parse(strings.NewReader(b.String()), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Attachments) != 1 || !bytes.Contains(in.Attachments[0].Data, []byte("in fondo")) {
		t.Fatalf("the unread depth should be kept raw, got %d attachments", len(in.Attachments))
	}
	if len(in.Notes) != 1 || !strings.Contains(in.Notes[0], "annidamento oltre 20 livelli") {
		t.Errorf("notes %q", in.Notes)
	}
}

func TestDeeplyForwarded(t *testing.T) {
	msg := "From: ultimo@example.com\r\nSubject: dentro\r\n\r\ntesto originale\r\n"
	for i := 0; i < 30; i++ {
		msg = fmt.Sprintf("From: l%d@example.com\r\nSubject: livello %d\r\nContent-Type: message/rfc822\r\n\r\n%s", i, i, msg)
	}
	in, err := Parse(strings.NewReader(msg), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if in.From != "l29@example.com" || strings.Count(in.Body, "---------- Messaggio inoltrato") != 20 {
		t.Errorf("from %q, %d levels inlined", in.From, strings.Count(in.Body, "---------- Messaggio inoltrato"))
	}
	if len(in.Attachments) != 1 || !bytes.Contains(in.Attachments[0].Data, []byte("testo originale")) {
		t.Errorf("the unread depth should be kept raw, got %d attachments", len(in.Attachments))
	}
}

func TestHugeHeader(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: Mario <mario@example.com>\r\nSubject: grande\r\n")
	for b.Len() < 3<<20 {
		b.WriteString("X-Spam: " + strings.Repeat("a", 990) + "\r\n")
	}
	b.WriteString("\r\ncorpo\r\n")
	in, err := Parse(strings.NewReader(b.String()), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if in.From != "mario@example.com" || in.Subject != "grande" || in.Body != "corpo" {
		t.Errorf("got from %q subject %q body %q", in.From, in.Subject, in.Body)
	}
	if len(in.Notes) != 1 || !strings.HasPrefix(in.Notes[0], "intestazione troppo grande") {
		t.Errorf("notes %q", in.Notes)
	}
}

func TestAutoReplyHeaders(t *testing.T) {
	cases := []struct {
		header string
		want   bool
	}{
		{"Auto-Submitted: auto-generated", true},
		{"Auto-Submitted: auto-replied; owner-email=\"x@y.it\"", true},
		{"Auto-Submitted: no", false},
		{"Precedence: bulk", true},
		{"Precedence: junk", true},
		{"Precedence: list", true},
		{"Precedence: auto_reply", true},
		{"Precedence: first-class", false},
		{"X-Autoreply: yes", true},
		{"X-Autorespond: Vacation", true},
		{"Return-Path: <>", true},
		{"Return-Path: <mario@example.com>", false},
		{"X-Mailer: Outlook", false},
	}
	for _, c := range cases {
		msg := "From: mario@example.com\r\nSubject: x\r\n" + c.header + "\r\n\r\nciao\r\n"
		in, err := Parse(strings.NewReader(msg), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		if in.AutoReply != c.want {
			t.Errorf("%s: AutoReply = %v, want %v", c.header, in.AutoReply, c.want)
		}
	}
	for _, from := range []string{"MAILER-DAEMON@mx.example.com", "postmaster@example.com"} {
		in, err := Parse(strings.NewReader("From: "+from+"\r\n\r\nx"), testOptions())
		if err != nil || !in.AutoReply {
			t.Errorf("From %s: AutoReply = %v, err %v", from, in.AutoReply, err)
		}
	}
}

func TestHeaderOddities(t *testing.T) {
	msg := "From: \"Perugini, Anna\" <Anna.Perugini@Example.IT\r\n" + // unclosed bracket
		"To: Ufficio Anagrafe <anagrafe@comune.fi.it>, altro@comune.fi.it\r\n" +
		"Subject: Cambio di residenza \xe8 urgente\r\n" + // raw Latin-1 byte
		"Date: domani\r\n" +
		"Message-ID: senza-parentesi@example.it\r\n" +
		"References: a@x b@y\r\n" +
		"Questa riga non è un campo\r\n" +
		"e questo è il corpo\r\n"
	in, err := Parse(strings.NewReader(msg), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if in.From != "anna.perugini@example.it" || in.FromName != "Perugini, Anna" || in.To != "anagrafe@comune.fi.it" {
		t.Errorf("from %q name %q to %q", in.From, in.FromName, in.To)
	}
	if in.Subject != "Cambio di residenza è urgente" {
		t.Errorf("subject %q", in.Subject)
	}
	if in.MessageID != "senza-parentesi@example.it" || !reflect.DeepEqual(in.References, []string{"a@x", "b@y"}) {
		t.Errorf("message-id %q references %q", in.MessageID, in.References)
	}
	if !in.ReceivedAt.Equal(fixedNow) {
		t.Errorf("received at %v", in.ReceivedAt)
	}
	if in.Body != "Questa riga non è un campo\ne questo è il corpo" {
		t.Errorf("body %q", in.Body)
	}
	wantNotes := []string{"intestazione non terminata da una riga vuota", `data non leggibile "domani": usata l'ora di ricezione`}
	if !reflect.DeepEqual(in.Notes, wantNotes) {
		t.Errorf("notes %q", in.Notes)
	}
}

func TestBadBase64AndQuotedPrintable(t *testing.T) {
	msg := "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n" +
		"--q\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Costo =E2=82=AC 10 =3D dieci =ZZ euro\r\n" +
		"--q\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"JVBERi0x!!!LjQK\r\n" +
		"--q\r\nContent-Type: application/pdf; name=b.pdf\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 b.pdf\r\n" +
		"--q--\r\n"
	in, err := Parse(strings.NewReader(msg), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if in.Body != "Costo € 10 = dieci =ZZ euro" {
		t.Errorf("body %q", in.Body)
	}
	if len(in.Attachments) != 2 || string(in.Attachments[0].Data) != "%PDF-1.4\n" || string(in.Attachments[1].Data) != "begin 644 b.pdf" {
		t.Fatalf("attachments %+v", in.Attachments)
	}
	wantNotes := []string{
		"testo del messaggio: 1 caratteri non validi nella codifica ignorati",
		`allegato "a.pdf": 3 caratteri non validi nella codifica ignorati`,
		`allegato "b.pdf": codifica "x-uuencode" sconosciuta, conservato così com'è`,
	}
	if !reflect.DeepEqual(in.Notes, wantNotes) {
		t.Errorf("notes %q", in.Notes)
	}
}

func TestAttachmentLimit(t *testing.T) {
	msg := "From: a@example.com\r\nContent-Type: application/octet-stream; name=big.bin\r\n\r\n" + strings.Repeat("x", 5000)
	in, err := Parse(strings.NewReader(msg), Options{MaxAttachmentBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Attachments) != 1 || len(in.Attachments[0].Data) != 1000 {
		t.Fatalf("attachments %+v", in.Attachments)
	}
	if len(in.Notes) != 1 || !strings.Contains(in.Notes[0], "oltre il limite di 1000 byte") {
		t.Errorf("notes %q", in.Notes)
	}
}

func TestWrongUTF8Charset(t *testing.T) {
	msg := "From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCittà \xe8 bella\r\n"
	in, err := Parse(strings.NewReader(msg), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if in.Body != "Città è bella" || !utf8.ValidString(in.Body) {
		t.Errorf("body %q", in.Body)
	}
	if len(in.Notes) != 1 || !strings.Contains(in.Notes[0], "dichiarato UTF-8") {
		t.Errorf("notes %q", in.Notes)
	}
}

func TestFilenames(t *testing.T) {
	cases := map[string]string{
		`attachment; filename="../../etc/passwd"`:                    "passwd",
		`attachment; filename="C:\\Users\\mario\\Desktop\\nota.txt"`: "nota.txt",
		`attachment; filename=".."`:                                  "allegato-1.bin",
		`attachment; filename="=?iso-8859-1?Q?perch=E8.doc?="`:       "perchè.doc",
		`attachment; filename*=UTF-8''%E2%82%AC%20100.pdf`:           "€ 100.pdf",
		`attachment; filename=senza virgolette.pdf`:                  "senza virgolette.pdf",
		`attachment; FILENAME="maiuscolo.pdf"; filename="dup.pdf"`:   "maiuscolo.pdf",
	}
	for disp, want := range cases {
		msg := "From: a@example.com\r\nContent-Type: application/octet-stream\r\nContent-Disposition: " + disp + "\r\n\r\nx"
		in, err := Parse(strings.NewReader(msg), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Attachments) != 1 || in.Attachments[0].Filename != want {
			t.Errorf("%s: got %+v, want %q", disp, in.Attachments, want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	cases := map[string]string{
		`<p>Uno</p><p>Due</p>`: "Uno\n\nDue",
		`<table><tr><td>Nome</td><td>Mario</td></tr><tr><td>Via</td><td>Roma 1</td></tr></table>`: "Nome Mario\nVia Roma 1",
		`<a href="mailto:urp@comune.fi.it">scrivici</a>`:                                          "scrivici (urp@comune.fi.it)",
		`<a href="https://www.comune.fi.it/">https://www.comune.fi.it</a>`:                        "https://www.comune.fi.it",
		`<style>.x{}</style><!--[if mso]>nascosto<![endif]-->visibile`:                            "visibile",
		`<pre>a
  b</pre>`: "a\n  b",
		`uno<br><br><br><br>due`:                       "uno\n\ndue",
		`<div onclick="x()">&lt;script&gt;</div>`:      "<script>",
		`<iframe src="https://x">dentro</iframe>fuori`: "fuori",
	}
	policy := newTextPolicy()
	for in, want := range cases {
		if got := htmlToText(policy, in); got != want {
			t.Errorf("htmlToText(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestDecodeBase64(t *testing.T) {
	cases := []struct {
		in        string
		out       string
		truncated bool
		invalid   int
	}{
		{"Y2lhbw==", "ciao", false, 0},
		{"Y2lh\r\nbw==", "ciao", false, 0},
		{"Y2lhbw", "ciao", true, 0},
		{"Y2lhbw==Y2lhbw==", "ciaociao", false, 0},
		{"Y2l*hbw==", "ciao", false, 1},
		{"Y2lhb", "cia", true, 0},
	}
	for _, c := range cases {
		r := decodeBase64([]byte(c.in), 1<<20)
		if string(r.data) != c.out || r.truncated != c.truncated || r.invalid != c.invalid {
			t.Errorf("decodeBase64(%q) = %q truncated=%v invalid=%d", c.in, r.data, r.truncated, r.invalid)
		}
	}
}

// Attachments that share the input's memory must not overwrite each other when a caller
// appends to one.
func TestAttachmentsDoNotAlias(t *testing.T) {
	msg := "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=uno.bin\r\n\r\nUNO\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=due.bin\r\n\r\nDUE\r\n--b--\r\n"
	in, err := Parse(strings.NewReader(msg), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	_ = append(in.Attachments[0].Data, strings.Repeat("X", 100)...)
	if string(in.Attachments[1].Data) != "DUE" {
		t.Fatalf("second attachment overwritten: %q", in.Attachments[1].Data)
	}
}

// A message handed over in a *bytes.Buffer is parsed in place: the same result as from any
// reader, and its bytes untouched (the SMTP server checks them for DKIM signatures afterwards).
func TestParseBufferInPlace(t *testing.T) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Parse(bytes.NewReader(raw), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		held := bytes.Clone(raw)
		got, err := Parse(bytes.NewBuffer(held), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: from a buffer %+v\nfrom a reader %+v", f, got, want)
		}
		if !bytes.Equal(held, raw) {
			t.Errorf("%s: parsing changed the caller's bytes", f)
		}
	}
}

// The shortcut for RFC 5322's own date layout gives what net/mail gives.
func TestParseDateShortcutAgreesWithNetMail(t *testing.T) {
	for _, v := range []string{"Mon, 16 Nov 2026 09:12:45 +0100", "Wed, 02 Dec 2026 23:59:59 -0930", " Sat, 14 Nov 2026 18:40:02 +0000 "} {
		want, err := mail.ParseDate(v)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseDate(&entityHeader{}, v)
		if !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%q: %v %v, want %v", v, got, ok, want)
		}
	}
}
