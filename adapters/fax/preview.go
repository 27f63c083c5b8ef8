package fax

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

const (
	// PreviewSize bounds the preview's width and height in pixels.
	PreviewSize = 1000
	// PreviewTimeout bounds one preview (a first page drawn at 1000 pixels takes well under a
	// second; see DefaultOCRTimeout for why the budget matters).
	PreviewTimeout  = 10 * time.Second
	maxPreviewBytes = 16 << 20
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// Preview renders the first page of a TIFF, PDF, PNG or JPEG document as a PNG at most
// PreviewSize pixels on each side: PDFs with pdftoppm (poppler-utils), images with
// ImageMagick. Standard-resolution faxes (204×98 dpi) are stretched back to their real
// proportions. A missing program is a *MissingToolError.
func Preview(ctx context.Context, data []byte, contentType string) ([]byte, error) {
	kind := Sniff(data)
	if kind == "" {
		return nil, fmt.Errorf("%w: %q", ErrUnsupported, contentType)
	}
	ctx, cancel := withTimeout(ctx, PreviewTimeout)
	defer cancel()
	dir, path, err := writeTemp(data, "fax"+extension(kind))
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }() // best-effort cleanup of a temporary directory

	var out []byte
	if kind == KindPDF {
		out, err = previewPDF(ctx, dir, path)
	} else {
		out, err = previewImage(ctx, kind, path, data)
	}
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(out, pngSignature) {
		return nil, &ToolError{Tool: "preview", Err: fmt.Errorf("output is not a PNG")}
	}
	return out, nil
}

func previewPDF(ctx context.Context, dir, path string) ([]byte, error) {
	bin, err := lookPath("pdftoppm", "poppler-utils")
	if err != nil {
		return nil, err
	}
	prefix := filepath.Join(dir, "preview")
	args := []string{"-f", "1", "-l", "1", "-png", "-scale-to", fmt.Sprint(PreviewSize), "-singlefile", path, prefix}
	if _, err := run(ctx, bin, args, nil, 1<<10); err != nil {
		return nil, err
	}
	out, err := os.ReadFile(prefix + ".png")
	if err != nil {
		return nil, &ToolError{Tool: "pdftoppm", Err: err}
	}
	return out, nil
}

func previewImage(ctx context.Context, kind Kind, path string, data []byte) ([]byte, error) {
	bin, err := lookPath("magick", "imagemagick")
	if err != nil {
		if bin, err = lookPath("convert", "imagemagick"); err != nil {
			return nil, err
		}
	}
	// An explicit coder keeps ImageMagick from guessing the format of untrusted input, and the
	// limits keep a decompression bomb from taking the host down.
	args := []string{
		"-limit", "memory", "256MiB", "-limit", "map", "512MiB", "-limit", "disk", "1GiB",
		"-limit", "width", "32KP", "-limit", "height", "32KP", "-limit", "time", fmt.Sprint(int(PreviewTimeout.Seconds())),
		string(kind) + ":" + path + "[0]",
	}
	if kind == KindTIFF {
		if x, y, ok := tiffResolution(data); ok && (x/y > 1.1 || y/x > 1.1) {
			args = append(args, "-resize", fmt.Sprintf("100%%x%.0f%%", x/y*100))
		}
	}
	size := fmt.Sprint(PreviewSize)
	args = append(args, "-thumbnail", size+"x"+size+">", "png:-")
	return run(ctx, bin, args, nil, maxPreviewBytes)
}
