package fax

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

// childMaxRSS is the largest resident size, in bytes, of any child this test process waited
// for (Linux reports kilobytes).
func childMaxRSS(t *testing.T) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Maxrss << 10
}

// TestOCRHostilePageBoxes reads a 1 KB PDF of twelve 8000-point pages (about 33,000 pixels a
// side at 300 dpi): the tools must stay within their memory and the document within its time
// budget, and a genuine fax right after must still be read.
func TestOCRHostilePageBoxes(t *testing.T) {
	requireTesseract(t)
	requireTool(t, "pdftoppm", "poppler-utils")
	start := time.Now()
	text, err := OCR{}.Text(context.Background(), readFixture(t, "hostile_pages.pdf"), "application/pdf")
	took := time.Since(start)
	if err == nil && text != "" {
		t.Errorf("blank pages read as %q", text)
	}
	var te *ToolError
	if err != nil && !errors.As(err, &te) {
		t.Errorf("hostile PDF: %v", err)
	}
	if took > DefaultOCRTimeout+5*time.Second {
		t.Errorf("the hostile PDF took %v, over its %v budget", took, DefaultOCRTimeout)
	}
	if rss := childMaxRSS(t); rss > 600<<20 {
		t.Errorf("a tool reached %d MB resident", rss>>20)
	}
	t.Logf("hostile PDF: %v, err %v, largest child %d MB", took, err, childMaxRSS(t)>>20)

	start = time.Now()
	text, err = OCR{}.Text(context.Background(), readFixture(t, "fax.pdf"), "application/pdf")
	if err != nil || len(text) < 50 {
		t.Fatalf("genuine fax after the hostile one: %q %v", text, err)
	}
	t.Logf("genuine fax right after: %v", time.Since(start))
}

// TestToolsRunUnderAMemoryLimit: the limit is set in the child itself.
func TestToolsRunUnderAMemoryLimit(t *testing.T) {
	out, err := run(context.Background(), "/bin/sh", []string{"-c", "ulimit -v"}, nil, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "1048576\n"; got != want {
		t.Fatalf("ulimit -v in a tool: %q, want %q", got, want)
	}
}
