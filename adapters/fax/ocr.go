package fax

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// OCR reads the text of faxes with Tesseract.
type OCR struct {
	// Binary is the tesseract program (default "tesseract", found in PATH).
	Binary string
	// Language is Tesseract's language code (default "ita", package tesseract-ocr-ita).
	Language string
	// Timeout bounds one document (default DefaultOCRTimeout).
	Timeout time.Duration
	// MaxPages bounds the pages read (default DefaultOCRPages): a PDF's later pages are not
	// drawn, a TIFF with more is not read at all (tesseract reads every page of a TIFF).
	MaxPages int
}

// Defaults of OCR. The jobs that read faxes run one at a time, so what one document may take
// is what the next, genuine fax waits: 30 s and 30 pages keep that wait under a minute, while
// a real fax (1 to 10 pages, about 0.3 s a page for tesseract and as much for pdftoppm here)
// needs a few seconds.
const (
	DefaultOCRBinary   = "tesseract"
	DefaultOCRLanguage = "ita"
	DefaultOCRTimeout  = 30 * time.Second
	DefaultOCRPages    = 30
	// ocrRasterPixels bounds the width and height, in pixels, of a PDF page drawn for OCR at
	// 300 dpi (a fax is 204×196 dpi at best), whatever its page box says: an A4 page in
	// either orientation fits whole; of a larger page only the top-left A4-sized square is
	// drawn.
	ocrRasterPixels = 3508
	// maxOCRText bounds the text read from one document.
	maxOCRText = 4 << 20
)

// DocumentBudget bounds the time of all the work on one document, its preview and its text
// together. A document over it is hostile or broken and is not tried again.
const DocumentBudget = DefaultOCRTimeout

// ErrTooManyPagesToRead is a document over OCR.MaxPages.
var ErrTooManyPagesToRead = errors.New("fax: too many pages to read")

func (o OCR) withDefaults() OCR {
	if o.Binary == "" {
		o.Binary = DefaultOCRBinary
	}
	if o.Language == "" {
		o.Language = DefaultOCRLanguage
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultOCRTimeout
	}
	if o.MaxPages == 0 {
		o.MaxPages = DefaultOCRPages
	}
	return o
}

// Available reports whether the tesseract binary is installed. It does not check the language
// data; Text reports that as a *MissingToolError.
func (o OCR) Available() bool {
	_, err := lookPath(o.withDefaults().Binary, "tesseract-ocr")
	return err == nil
}

var missingLanguage = regexp.MustCompile(`(?i)failed loading language|error opening data file`)

// Text reads the text of a TIFF (every page, in one run), PDF (rasterized with pdftoppm from
// poppler-utils), PNG or JPEG document. Pages are separated by an empty line. A missing binary
// or language is a *MissingToolError; a failing or slow run is a *ToolError.
func (o OCR) Text(ctx context.Context, data []byte, contentType string) (string, error) {
	o = o.withDefaults()
	bin, err := lookPath(o.Binary, "tesseract-ocr")
	if err != nil {
		return "", err
	}
	kind := Sniff(data)
	if kind == "" {
		return "", fmt.Errorf("%w: %q", ErrUnsupported, contentType)
	}
	ctx, cancel := withTimeout(ctx, o.Timeout)
	defer cancel()
	dir, path, err := writeTemp(data, "fax"+extension(kind))
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(dir) }() // best-effort cleanup of a temporary directory

	input := path
	switch kind {
	case KindPDF:
		if input, err = rasterizePDF(ctx, dir, path, o.MaxPages); err != nil {
			return "", err
		}
	case KindTIFF:
		if n, err := CountTIFFPages(bytes.NewReader(data), int64(len(data))); err != nil || n > o.MaxPages {
			return "", fmt.Errorf("%w: %d pages (at most %d), %v", ErrTooManyPagesToRead, n, o.MaxPages, err)
		}
	}
	// OMP_THREAD_LIMIT=1: Tesseract's OpenMP threads make it several times slower on small hosts.
	out, err := run(ctx, bin, []string{input, "stdout", "-l", o.Language}, []string{"OMP_THREAD_LIMIT=1"}, maxOCRText)
	if err != nil {
		if te, ok := err.(*ToolError); ok && missingLanguage.MatchString(te.Stderr) {
			return "", &MissingToolError{Tool: "tesseract language data " + o.Language,
				Package: "tesseract-ocr-" + o.Language, Err: err}
		}
		return "", err
	}
	return cleanOCRText(string(out)), nil
}

// rasterizePDF renders the first maxPages pages as 300 dpi grey TIFFs (PackBits: ten times
// faster to write than PNG here, and a blank page is 200 KB instead of PGM's 12 MB) cropped to
// ocrRasterPixels square, and returns a list file naming them, which tesseract reads as one
// multi-page input. The crop bounds the bitmap pdftoppm allocates whatever the page box says
// (a 345-byte PDF of 8000-point pages took it to 2 GB and past a minute a page at 300 dpi;
// cropped, 58 MB); -scale-to would bound it too but enlarges small pages, which reads worse.
func rasterizePDF(ctx context.Context, dir, pdf string, maxPages int) (string, error) {
	bin, err := lookPath("pdftoppm", "poppler-utils")
	if err != nil {
		return "", err
	}
	prefix := filepath.Join(dir, "page")
	side := fmt.Sprint(ocrRasterPixels)
	args := []string{"-r", "300", "-x", "0", "-y", "0", "-W", side, "-H", side, "-gray", "-tiff", "-tiffcompression", "packbits", "-l", fmt.Sprint(maxPages), pdf, prefix}
	if _, err := run(ctx, bin, args, nil, 1<<10); err != nil {
		return "", err
	}
	pages, err := filepath.Glob(prefix + "-*.tif")
	if err != nil || len(pages) == 0 {
		return "", &ToolError{Tool: "pdftoppm", Err: fmt.Errorf("no page rendered")}
	}
	// Names are zero-padded to the same width, so a lexical sort is page order.
	sort.Strings(pages)
	list := filepath.Join(dir, "pages.txt")
	if err := os.WriteFile(list, []byte(strings.Join(pages, "\n")+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("fax: page list: %w", err)
	}
	return list, nil
}

var manyBlankLines = regexp.MustCompile(`\n{3,}`)

func cleanOCRText(s string) string {
	s = strings.ReplaceAll(s, "\f", "\n\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	s = manyBlankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
}
