package fax

import (
	"context"
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
	// Timeout bounds one document (default 2 minutes; about 0.3 s a page on this hardware).
	Timeout time.Duration
}

// Defaults of OCR.
const (
	DefaultOCRBinary   = "tesseract"
	DefaultOCRLanguage = "ita"
	DefaultOCRTimeout  = 2 * time.Minute
	// maxOCRPages bounds the pages of a PDF that are rasterized for OCR.
	maxOCRPages = 100
	// maxOCRText bounds the text read from one document.
	maxOCRText = 4 << 20
)

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
	defer os.RemoveAll(dir)

	input := path
	if kind == KindPDF {
		if input, err = rasterizePDF(ctx, dir, path); err != nil {
			return "", err
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

// rasterizePDF renders the pages as 300 dpi grey PNGs and returns a list file naming them,
// which tesseract reads as one multi-page input.
func rasterizePDF(ctx context.Context, dir, pdf string) (string, error) {
	bin, err := lookPath("pdftoppm", "poppler-utils")
	if err != nil {
		return "", err
	}
	prefix := filepath.Join(dir, "page")
	args := []string{"-r", "300", "-gray", "-png", "-l", fmt.Sprint(maxOCRPages), pdf, prefix}
	if _, err := run(ctx, bin, args, nil, 1<<10); err != nil {
		return "", err
	}
	pages, err := filepath.Glob(prefix + "-*.png")
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
