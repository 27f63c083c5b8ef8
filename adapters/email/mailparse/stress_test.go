package mailparse

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Inputs built to hit the slow paths of a parser (long folded fields, nested links, soft line
// breaks, huge lists): each must be read in time proportional to its size.
func TestPathologicalInputs(t *testing.T) {
	head := "From: a@example.com\r\nTo: urp@comune.fi.it\r\n"
	cases := map[string]string{
		"folded field": head + "Subject: a\r\n" + strings.Repeat(" b\r\n", 300000) + "\r\ncorpo",
		"nested links": head + "Content-Type: text/html\r\n\r\n" + strings.Repeat(`<a href="https://x.it/">testo `, 50000) +
			strings.Repeat("</a>", 50000),
		"nested divs": head + "Content-Type: text/html\r\n\r\n" + strings.Repeat("<div><p>x", 200000),
		"flowed":      head + "Content-Type: text/plain; format=flowed; delsp=yes\r\n\r\n" + strings.Repeat("> parola \r\n", 300000),
		"references":  head + "References: " + strings.Repeat("<", 2000000) + "\r\n\r\nx",
		"address list": head + "Cc: " + strings.Repeat("Mario Rossi <m@x.it>, ", 100000) + "\r\nFrom: " +
			strings.Repeat("\"a\" <b@c.it>, ", 100000) + "\r\n\r\nx",
		"encoded words":     head + "Subject: " + strings.Repeat("=?utf-8?q?caf=C3=A8?= ", 100000) + "\r\n\r\nx",
		"bad encoded words": head + "Subject: " + strings.Repeat("=?x-klingon?q?caf=E8?= ", 100000) + "\r\n\r\nx",
		"boundary lines":    head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--b\r\n", 300000),
		"no boundary":       head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--c\r\n", 300000),
		"big attachment": head + "Content-Type: application/pdf; name=x.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString(make([]byte, 10<<20)),
	}
	for name, msg := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			in, err := Parse(strings.NewReader(msg), testOptions())
			d := time.Since(start)
			t.Logf("%d bytes in %v", len(msg), d)
			if err != nil {
				t.Fatal(err)
			}
			if d > 30*time.Second { // generous: the CI host is shared; a quadratic path takes hours here
				t.Errorf("took %v", d)
			}
			if in.From != "a@example.com" && name != "address list" {
				t.Errorf("from %q", in.From)
			}
		})
	}
}

// BenchmarkParseFixtures parses every fixture once per iteration.
func BenchmarkParseFixtures(b *testing.B) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		b.Fatal(err)
	}
	var msgs [][]byte
	total := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, raw)
		total += len(raw)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			if _, err := Parse(bytes.NewReader(m), testOptions()); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "msgs/s")
}
