package email

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

type countingResolver struct {
	Resolver
	calls map[string]int
	fail  map[string]error
}

func (r *countingResolver) LookupTXT(_ context.Context, name string) ([]string, error) {
	r.calls[name]++
	if err := r.fail[name]; err != nil {
		return nil, err
	}
	return []string{"v=spf1 -all " + name}, nil
}

func TestCachingResolverKeepsAnswersAndNotFoundForTTL(t *testing.T) {
	next := &countingResolver{calls: map[string]int{}, fail: map[string]error{
		"_dmarc.gone.it": &net.DNSError{Err: "no such host", Name: "_dmarc.gone.it", IsNotFound: true},
		"flaky.it":       &net.DNSError{Err: "i/o timeout", Name: "flaky.it", IsTimeout: true, IsTemporary: true},
	}}
	clock := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	c := NewCachingResolver(next, time.Minute)
	c.now = func() time.Time { return clock }
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if v, err := c.LookupTXT(ctx, "example.it"); err != nil || len(v) != 1 || v[0] != "v=spf1 -all example.it" {
			t.Fatalf("LookupTXT = %v, %v", v, err)
		}
		var d *net.DNSError
		if _, err := c.LookupTXT(ctx, "_dmarc.gone.it"); !errors.As(err, &d) || !d.IsNotFound {
			t.Fatalf("not found came back as %v", err)
		}
		if _, err := c.LookupTXT(ctx, "flaky.it"); err == nil {
			t.Fatal("a timeout came back as an answer")
		}
	}
	if next.calls["example.it"] != 1 || next.calls["_dmarc.gone.it"] != 1 {
		t.Errorf("answers and not-found were asked %v times, want once each", next.calls)
	}
	if next.calls["flaky.it"] != 3 {
		t.Errorf("a temporary failure was cached: asked %d times, want 3", next.calls["flaky.it"])
	}
	clock = clock.Add(time.Minute + time.Second)
	if _, err := c.LookupTXT(ctx, "example.it"); err != nil || next.calls["example.it"] != 2 {
		t.Errorf("after the TTL the answer was not asked again: %d calls, %v", next.calls["example.it"], err)
	}
}

func TestCachingResolverBounded(t *testing.T) {
	next := &countingResolver{calls: map[string]int{}}
	c := NewCachingResolver(next, time.Minute)
	c.maxEntries = 4
	for i := 0; i < 10; i++ {
		_, _ = c.LookupTXT(context.Background(), string(rune('a'+i))+".it")
	}
	if len(c.entries) > 4 {
		t.Errorf("the cache holds %d names, at most 4 allowed", len(c.entries))
	}
}

func TestCachingResolverKeepsNoOverlongName(t *testing.T) {
	next := &countingResolver{calls: map[string]int{}}
	c := NewCachingResolver(next, time.Minute)
	long := strings.Repeat("a", 300) + ".it"
	for i := 0; i < 2; i++ {
		_, _ = c.LookupTXT(context.Background(), long)
	}
	if len(c.entries) != 0 || next.calls[long] != 2 {
		t.Errorf("a %d-character name was kept (%d entries, %d lookups)", len(long), len(c.entries), next.calls[long])
	}
}
