package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRunServesAndReportsStats(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-account-sid", "AC0123456789abcdef0123456789abcdef",
			"-auth-token", "tok123", "-fail", "+393470000003=21211", "-unsubscribed", "+393470000004"}, pw, &stderr)
		_ = pw.Close() // an io.Pipe's Close never fails
	}()
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var base string
	select {
	case base = <-lines:
	case err := <-done:
		t.Fatalf("run ended: %v %s", err, stderr.String())
	case <-time.After(5 * time.Second):
		t.Fatal("no URL printed")
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line %q", base)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(to string) int {
		form := url.Values{"To": {to}, "From": {"+390550550"}, "Body": {"ciao"}}
		req, _ := http.NewRequest(http.MethodPost, base+"/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("AC0123456789abcdef0123456789abcdef", "tok123")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post("+393471234567"); s != http.StatusCreated {
		t.Fatalf("create: %d", s)
	}
	if s := post("+393470000003"); s != http.StatusBadRequest {
		t.Fatalf("-fail number: %d", s)
	}
	if s := post("+393470000004"); s != http.StatusBadRequest {
		t.Fatalf("-unsubscribed number: %d", s)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	var stats struct {
		Messages   int            `json:"messages"`
		Rejections map[string]int `json:"rejections"`
	}
	last := <-lines
	if err := json.Unmarshal([]byte(last), &stats); err != nil {
		t.Fatalf("final line %q: %v", last, err)
	}
	if stats.Messages != 1 || stats.Rejections["21211"] != 1 || stats.Rejections["21610"] != 1 {
		t.Fatalf("stats %+v", stats)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	for _, args := range [][]string{{"-account-sid", "nope"}, {"-fail", "garbage"}, {"-callback-delay", "-1s"}} {
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
