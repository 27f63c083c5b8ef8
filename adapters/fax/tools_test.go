package fax

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/store/storetest"
)

// requireTesseract fails under CI, and skips elsewhere, when tesseract or its Italian data is
// missing (packages tesseract-ocr, tesseract-ocr-ita).
func requireTesseract(t *testing.T) {
	t.Helper()
	out, err := exec.Command("tesseract", "--list-langs").CombinedOutput()
	if err == nil && !strings.Contains(string(out), "\nita") {
		err = errors.New("no Italian language data (tesseract-ocr-ita)")
	}
	storetest.RequirePeer(t, "tesseract with tesseract-ocr-ita", err)
}

func requireTool(t *testing.T, tool, pkg string) {
	t.Helper()
	_, err := exec.LookPath(tool)
	storetest.RequirePeer(t, tool+" ("+pkg+")", err)
}

func TestOCRTIFF(t *testing.T) {
	requireTesseract(t)
	start := time.Now()
	text, err := OCR{}.Text(context.Background(), readFixture(t, "fax.tif"), "image/tiff")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("OCR of 2 pages took %v:\n%s", time.Since(start), text)
	first := strings.Index(text, "Comune di Firenze - richiesta permesso ZTL")
	second := strings.Index(text, "Firma: Mario Rossi")
	if first < 0 || second < 0 || second < first {
		t.Errorf("both pages should be read in order, got:\n%s", text)
	}
	for _, w := range []string{"Targa veicolo: AB123CD", "Firenze, 20 novembre 2026"} {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q", w)
		}
	}
}

func TestOCRPDF(t *testing.T) {
	requireTesseract(t)
	requireTool(t, "pdftoppm", "poppler-utils")
	text, err := OCR{}.Text(context.Background(), readFixture(t, "fax.pdf"), "application/pdf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "richiesta permesso ZTL") || !strings.Contains(text, "Firma: Mario Rossi") {
		t.Errorf("PDF OCR got:\n%s", text)
	}
}

func TestOCRErrors(t *testing.T) {
	missing := OCR{Binary: "/nonexistent/tesseract"}
	if missing.Available() {
		t.Error("a missing binary is available")
	}
	_, err := missing.Text(context.Background(), readFixture(t, "fax.tif"), "image/tiff")
	var mt *MissingToolError
	if !errors.As(err, &mt) || mt.Package != "tesseract-ocr" {
		t.Errorf("missing binary: %v", err)
	}

	requireTesseract(t)
	if !(OCR{}).Available() {
		t.Error("tesseract installed but not available")
	}
	_, err = OCR{Language: "xyz"}.Text(context.Background(), readFixture(t, "fax.tif"), "image/tiff")
	if !errors.As(err, &mt) || mt.Package != "tesseract-ocr-xyz" {
		t.Errorf("missing language: %v", err)
	}
	_, err = OCR{}.Text(context.Background(), []byte("non è un'immagine"), "text/plain")
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("unsupported: %v", err)
	}
	start := time.Now()
	_, err = OCR{Timeout: 50 * time.Millisecond}.Text(context.Background(), readFixture(t, "fax.tif"), "image/tiff")
	var te *ToolError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 15*time.Second {
		t.Errorf("timeout: %v after %v", err, time.Since(start))
	}
}

func checkPNG(t *testing.T, data []byte, wantRatio float64) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() > PreviewSize || b.Dy() > PreviewSize || max(b.Dx(), b.Dy()) < PreviewSize-1 {
		t.Errorf("preview is %dx%d, want the longer side %d", b.Dx(), b.Dy(), PreviewSize)
	}
	if ratio := float64(b.Dy()) / float64(b.Dx()); math.Abs(ratio-wantRatio) > 0.02 {
		t.Errorf("height/width %.3f, want %.3f", ratio, wantRatio)
	}
}

func TestPreview(t *testing.T) {
	if _, err := exec.LookPath("magick"); err != nil {
		requireTool(t, "convert", "imagemagick")
	}
	out, err := Preview(context.Background(), readFixture(t, "fax.tif"), "image/tiff")
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, out, 1100.0/1654)

	// 1728x540 pixels at 204x98 dpi is a page 8.5 by 5.5 inches: its preview must not be squashed.
	out, err = Preview(context.Background(), readFixture(t, "fax_standard.tif"), "image/tiff")
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, out, (540.0/98)/(1728.0/204))

	if _, err := Preview(context.Background(), []byte("ciao"), "text/plain"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unsupported: %v", err)
	}
}

func TestPreviewPDF(t *testing.T) {
	requireTool(t, "pdftoppm", "poppler-utils")
	out, err := Preview(context.Background(), readFixture(t, "fax.pdf"), "application/pdf")
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, out, 396.0/595.44)
}

// TestToolsRunNicer: OCR and previews must leave the CPU to the gateway's own work when both
// want it, so every tool runs at ToolNiceness or nicer.
func TestToolsRunNicer(t *testing.T) {
	out, err := run(context.Background(), "/bin/sh", []string{"-c", `cut -d' ' -f19 /proc/$$/stat`}, nil, 64)
	if err != nil {
		t.Fatal(err)
	}
	nice, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("reading the tool's niceness from %q: %v", out, err)
	}
	if nice < ToolNiceness {
		t.Errorf("the tool ran at niceness %d, want at least %d", nice, ToolNiceness)
	}
}

// TestToolsCPUCountsAToolsWork: the fax worker tells a costly document from one that waited
// for the CPU by the difference in ToolsCPU across the document's tools.
func TestToolsCPUCountsAToolsWork(t *testing.T) {
	before, err := ToolsCPU()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := run(context.Background(), "/bin/sh", []string{"-c", `i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done`}, nil, 64); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	after, err := ToolsCPU()
	if err != nil {
		t.Fatal(err)
	}
	// The loop is all CPU: on a quiet host its CPU time is close to its wall time.
	if used := after - before; used < 10*time.Millisecond || used > took+20*time.Millisecond {
		t.Errorf("a tool that counted for %v used %v of CPU by ToolsCPU", took, used)
	}
}
