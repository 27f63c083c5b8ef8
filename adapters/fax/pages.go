// Package fax holds what fax-to-email traffic needs beyond plain email: recognizing mail from a
// fax gateway and turning it into a fax contact from the sender's number, counting the pages of
// TIFF and PDF faxes, reading them with OCR, and rendering a preview of the first page. It
// depends on no other adapter: the email adapters hand it an InboundMessage.
package fax

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// MaxPages bounds page counts: no fax has more, and a chain longer than this is hostile.
const MaxPages = 10000

var (
	ErrNotTIFF      = errors.New("fax: not a TIFF file")
	ErrNotPDF       = errors.New("fax: not a PDF file")
	ErrTIFFLoop     = errors.New("fax: TIFF directory chain loops")
	ErrTruncated    = errors.New("fax: file truncated")
	ErrTooManyPages = errors.New("fax: too many pages")
	ErrNoPages      = errors.New("fax: no pages found")
)

type tiffLayout struct {
	order    binary.ByteOrder
	big      bool  // BigTIFF: 8-byte offsets and counts
	firstIFD int64 // offset of the first directory
}

func readTIFFHeader(r io.ReaderAt, size int64) (tiffLayout, error) {
	var hdr [16]byte
	n, err := r.ReadAt(hdr[:], 0)
	if n < 8 {
		if err != nil && !errors.Is(err, io.EOF) {
			return tiffLayout{}, err
		}
		return tiffLayout{}, ErrNotTIFF
	}
	var l tiffLayout
	switch string(hdr[:2]) {
	case "II":
		l.order = binary.LittleEndian
	case "MM":
		l.order = binary.BigEndian
	default:
		return l, ErrNotTIFF
	}
	switch l.order.Uint16(hdr[2:4]) {
	case 42:
		l.firstIFD = int64(l.order.Uint32(hdr[4:8]))
	case 43:
		if n < 16 || l.order.Uint16(hdr[4:6]) != 8 {
			return l, ErrNotTIFF
		}
		l.big = true
		off := l.order.Uint64(hdr[8:16])
		if off > uint64(size) {
			return l, fmt.Errorf("%w: first directory at %d, file is %d bytes", ErrTruncated, off, size)
		}
		l.firstIFD = int64(off)
	default:
		return l, ErrNotTIFF
	}
	return l, nil
}

// tiffIFD is what page counting needs of one image file directory.
type tiffIFD struct {
	next    int64
	reduced bool // a thumbnail or other reduced-resolution copy, not a page
	entries []tiffEntry
}

type tiffEntry struct {
	tag, typ uint16
	count    uint64
	value    []byte // the raw value/offset field
}

// maxScannedEntries bounds the entries read per directory: the tags page counting and previews
// need (254, 282, 283) sort before the rest, so a hostile 65535-entry directory costs nothing.
const maxScannedEntries = 32

func readIFD(r io.ReaderAt, size int64, l tiffLayout, off int64) (tiffIFD, error) {
	countSize, entrySize, nextSize := int64(2), int64(12), int64(4)
	if l.big {
		countSize, entrySize, nextSize = 8, 20, 8
	}
	if off < 8 || off+countSize > size {
		return tiffIFD{}, fmt.Errorf("%w: directory at %d, file is %d bytes", ErrTruncated, off, size)
	}
	buf := make([]byte, countSize)
	if _, err := r.ReadAt(buf, off); err != nil {
		return tiffIFD{}, fmt.Errorf("%w: reading directory at %d: %v", ErrTruncated, off, err)
	}
	var count uint64
	if l.big {
		count = l.order.Uint64(buf)
	} else {
		count = uint64(l.order.Uint16(buf))
	}
	if count == 0 || count > 1<<16 {
		return tiffIFD{}, fmt.Errorf("fax: TIFF directory at %d has %d entries", off, count)
	}
	nextAt := off + countSize + int64(count)*entrySize
	if nextAt+nextSize > size {
		return tiffIFD{}, fmt.Errorf("%w: directory at %d runs past the end", ErrTruncated, off)
	}
	scan := min(count, maxScannedEntries)
	ents := make([]byte, int64(scan)*entrySize)
	if _, err := r.ReadAt(ents, off+countSize); err != nil {
		return tiffIFD{}, fmt.Errorf("%w: reading directory at %d: %v", ErrTruncated, off, err)
	}
	var d tiffIFD
	for i := int64(0); i < int64(scan); i++ {
		e := ents[i*entrySize : (i+1)*entrySize]
		te := tiffEntry{tag: l.order.Uint16(e[0:2]), typ: l.order.Uint16(e[2:4])}
		if l.big {
			te.count, te.value = l.order.Uint64(e[4:12]), e[12:20]
		} else {
			te.count, te.value = uint64(l.order.Uint32(e[4:8])), e[8:12]
		}
		d.entries = append(d.entries, te)
		if te.tag == 254 { // NewSubfileType: bit 0 marks a reduced-resolution image
			var v uint64
			switch te.typ {
			case 3: // SHORT
				v = uint64(l.order.Uint16(te.value))
			case 4, 13: // LONG, IFD
				v = uint64(l.order.Uint32(te.value))
			}
			d.reduced = v&1 == 1
		}
	}
	nb := make([]byte, nextSize)
	if _, err := r.ReadAt(nb, nextAt); err != nil {
		return tiffIFD{}, fmt.Errorf("%w: reading next directory offset at %d: %v", ErrTruncated, nextAt, err)
	}
	if l.big {
		n := l.order.Uint64(nb)
		if n > uint64(size) {
			return tiffIFD{}, fmt.Errorf("%w: next directory at %d, file is %d bytes", ErrTruncated, n, size)
		}
		d.next = int64(n)
	} else {
		d.next = int64(l.order.Uint32(nb))
	}
	return d, nil
}

// CountTIFFPages counts the pages of a TIFF (classic or BigTIFF, either byte order) by walking
// its chain of image file directories; reduced-resolution copies are not pages. A chain that
// loops is ErrTIFFLoop, a chain longer than MaxPages is ErrTooManyPages. On error the count
// is the pages read before the problem.
func CountTIFFPages(r io.ReaderAt, size int64) (int, error) {
	l, err := readTIFFHeader(r, size)
	if err != nil {
		return 0, err
	}
	if l.firstIFD == 0 {
		return 0, ErrNoPages
	}
	seen := make(map[int64]bool)
	pages := 0
	for off := l.firstIFD; off != 0; {
		if seen[off] {
			return pages, fmt.Errorf("%w: directory at %d visited twice", ErrTIFFLoop, off)
		}
		if len(seen) >= MaxPages {
			return pages, fmt.Errorf("%w: more than %d directories", ErrTooManyPages, MaxPages)
		}
		seen[off] = true
		d, err := readIFD(r, size, l, off)
		if err != nil {
			return pages, err
		}
		if !d.reduced {
			pages++
		}
		off = d.next
	}
	if pages == 0 {
		return 0, ErrNoPages
	}
	return pages, nil
}

// tiffResolution returns the first page's horizontal and vertical resolution, which differ on
// standard-resolution faxes (204×98 dpi), so a preview can restore the page's proportions.
func tiffResolution(data []byte) (x, y float64, ok bool) {
	r := bytes.NewReader(data)
	size := int64(len(data))
	l, err := readTIFFHeader(r, size)
	if err != nil || l.firstIFD == 0 {
		return 0, 0, false
	}
	d, err := readIFD(r, size, l, l.firstIFD)
	if err != nil {
		return 0, 0, false
	}
	rational := func(e tiffEntry) (float64, bool) {
		if e.typ != 5 || e.count != 1 { // RATIONAL
			return 0, false
		}
		var at uint64
		if l.big {
			return 0, false // the value lives inline in BigTIFF; faxes are never BigTIFF
		}
		at = uint64(l.order.Uint32(e.value))
		if at+8 > uint64(size) {
			return 0, false
		}
		num, den := l.order.Uint32(data[at:]), l.order.Uint32(data[at+4:])
		if den == 0 || num == 0 {
			return 0, false
		}
		return float64(num) / float64(den), true
	}
	var okX, okY bool
	for _, e := range d.entries {
		switch e.tag {
		case 282:
			x, okX = rational(e)
		case 283:
			y, okY = rational(e)
		}
	}
	return x, y, okX && okY
}

var (
	pdfRoot       = regexp.MustCompile(`/Root\s+(\d{1,10})\s+(\d{1,5})\s+R`)
	pdfPagesRef   = regexp.MustCompile(`/Pages\s+(\d{1,10})\s+(\d{1,5})\s+R`)
	pdfCount      = regexp.MustCompile(`/Count\s+(\d{1,10})`)
	pdfTypePages  = regexp.MustCompile(`/Type\s*/Pages\b`)
	pdfPageObject = regexp.MustCompile(`/Type\s*/Page(?:[\s()<>\[\]{}/%]|$)`)
	pdfObjStm     = regexp.MustCompile(`/Type\s*/ObjStm\b`)
)

const (
	// maxInflate bounds the bytes decompressed from object streams of one PDF.
	maxInflate = 64 << 20
	// maxObjectBytes bounds how far an object's dictionary is looked at.
	maxObjectBytes = 64 << 10
)

// CountPDFPages counts the pages of a PDF. It trusts the /Count of the document's root page
// tree when the catalog can be found in clear text (the case of fax gateways' PDFs, and of
// incrementally updated files whose old page objects are still there), and otherwise counts
// the /Type /Page objects, looking inside compressed object streams too.
func CountPDFPages(data []byte) (int, error) {
	if !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return 0, ErrNotPDF
	}
	if n, ok := rootPageCount(data); ok {
		return n, nil
	}
	n := len(pdfPageObject.FindAllIndex(data, MaxPages+1))
	budget := maxInflate
	for _, loc := range pdfObjStm.FindAllIndex(data, 10000) {
		if n > MaxPages || budget <= 0 {
			break
		}
		stream, ok := streamAfter(data, loc[1])
		if !ok {
			continue
		}
		zr, err := zlib.NewReader(bytes.NewReader(stream))
		if err != nil {
			continue
		}
		inflated, _ := io.ReadAll(io.LimitReader(zr, int64(budget)))
		budget -= len(inflated)
		n += len(pdfPageObject.FindAllIndex(inflated, MaxPages+1))
	}
	switch {
	case n == 0:
		return 0, ErrNoPages
	case n > MaxPages:
		return 0, fmt.Errorf("%w: more than %d page objects", ErrTooManyPages, MaxPages)
	}
	return n, nil
}

// rootPageCount follows trailer /Root -> catalog /Pages -> /Count.
func rootPageCount(data []byte) (int, bool) {
	roots := pdfRoot.FindAllSubmatch(data, -1)
	if len(roots) == 0 {
		return 0, false
	}
	root := roots[len(roots)-1] // the last trailer wins after incremental updates
	catalog, ok := findObject(data, root[1], root[2])
	if !ok {
		return 0, false
	}
	ref := pdfPagesRef.FindSubmatch(catalog)
	if ref == nil {
		return 0, false
	}
	pages, ok := findObject(data, ref[1], ref[2])
	if !ok || !pdfTypePages.Match(pages) {
		return 0, false
	}
	m := pdfCount.FindSubmatch(pages)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil || n < 1 || n > MaxPages {
		return 0, false
	}
	return n, true
}

// findObject returns the text of object "num gen obj ... endobj", its last definition.
func findObject(data, num, gen []byte) ([]byte, bool) {
	re, err := regexp.Compile(`(?:^|[^0-9])` + string(num) + `\s+` + string(gen) + `\s+obj\b`)
	if err != nil {
		return nil, false
	}
	locs := re.FindAllIndex(data, -1)
	if len(locs) == 0 {
		return nil, false
	}
	start := locs[len(locs)-1][1]
	body := data[start:min(len(data), start+maxObjectBytes)]
	if end := bytes.Index(body, []byte("endobj")); end >= 0 {
		body = body[:end]
	}
	// Only the dictionary matters, not a stream that may follow it.
	if s := bytes.Index(body, []byte("stream")); s >= 0 {
		body = body[:s]
	}
	return body, true
}

// streamAfter returns the raw bytes of the first stream that starts after pos.
func streamAfter(data []byte, pos int) ([]byte, bool) {
	window := data[pos:min(len(data), pos+maxObjectBytes)]
	s := bytes.Index(window, []byte("stream"))
	if s < 0 || bytes.HasPrefix(window[s:], []byte("streamx")) {
		return nil, false
	}
	start := pos + s + len("stream")
	if start < len(data) && data[start] == '\r' {
		start++
	}
	if start < len(data) && data[start] == '\n' {
		start++
	}
	end := bytes.Index(data[start:], []byte("endstream"))
	if end < 0 {
		return data[start:], true
	}
	return data[start : start+end], true
}

// Kind is the document format of a fax attachment.
type Kind string

const (
	KindTIFF Kind = "tiff"
	KindPDF  Kind = "pdf"
	KindPNG  Kind = "png"
	KindJPEG Kind = "jpeg"
)

// Sniff recognizes a document by its first bytes, never by its declared type: fax gateways
// label files inconsistently (application/octet-stream, image/tif, a .fax name). It returns ""
// for anything else.
func Sniff(data []byte) Kind {
	switch {
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")),
		bytes.HasPrefix(data, []byte("II+\x00")), bytes.HasPrefix(data, []byte("MM\x00+")):
		return KindTIFF
	case bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")):
		return KindPDF
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return KindPNG
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return KindJPEG
	}
	return ""
}

// CountPages counts the pages of a TIFF or PDF attachment; nil when the data is neither or
// cannot be read. The format is recognized from the data itself (see Sniff): contentType and
// filename, which gateways get wrong, are not trusted.
func CountPages(contentType, filename string, data []byte) *int {
	n, err := countPages(data)
	if err != nil {
		return nil
	}
	return &n
}

func countPages(data []byte) (int, error) {
	switch Sniff(data) {
	case KindTIFF:
		return CountTIFFPages(bytes.NewReader(data), int64(len(data)))
	case KindPDF:
		return CountPDFPages(data)
	}
	return 0, errNotFaxDocument
}

var errNotFaxDocument = errors.New("fax: neither TIFF nor PDF")
