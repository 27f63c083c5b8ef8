package email

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/sportello/sportello/channels"
)

type discardSink struct{ n atomic.Int64 }

func (s *discardSink) Receive(context.Context, channels.InboundMessage) (channels.Receipt, error) {
	return channels.Receipt{ContactID: fmt.Sprint(s.n.Add(1)), New: true}, nil
}

// BenchmarkSMTPData is the SMTP server's own work on a 3 KB message (the session, reading
// DATA, parsing), its Sink storing nothing; client and server share the process, so the
// allocations are both sides'. It uses only what older versions have, for A/B comparisons.
func BenchmarkSMTPData(b *testing.B) {
	srv, err := NewSMTPServer(SMTPOptions{Listen: "127.0.0.1:0", Recipients: testRecipients, Sink: &discardSink{}, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	body := strings.Repeat("Buongiorno, scrivo per segnalare che in via dei Serragli il marciapiede è dissestato da\r\n"+
		"settimane e le persone anziane rischiano di cadere. Vorrei sapere se il Comune ha in\r\n"+
		"programma un intervento e con quali tempi, dato che la situazione peggiora.\r\n\r\n", 11)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		msg := italianMail(fmt.Sprintf("bench-%d@example.it", i), "mario.rossi@example.it", "urp@comune.fi.it", "Marciapiede dissestato", body)
		if err := c.SendMail("mario.rossi@example.it", []string{"urp@comune.fi.it"}, strings.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
	}
}
