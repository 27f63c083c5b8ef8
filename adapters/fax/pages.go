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
	"strings"
	"time"
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
	d := tiffIFD{entries: make([]tiffEntry, 0, scan)}
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
	pdfPagesRef  = regexp.MustCompile(`/Pages\s+(\d{1,10})\s+(\d{1,5})\s+R`)
	pdfCount     = regexp.MustCompile(`/Count\s+(\d{1,10})`)
	pdfTypePages = regexp.MustCompile(`/Type\s*/Pages\b`)
)

const (
	// messageInflateBudget bounds the bytes decompressed from PDF object streams while counting
	// the pages of one message, all its documents together. Counting runs before the sender is
	// answered, and a 64 KiB zlib bomb inflates to 64 MiB; a gateway's PDF keeps its page tree
	// in clear text or in a few KiB of object streams.
	messageInflateBudget = 4 << 20
	// messageCountingTime bounds the time spent counting the pages of one message.
	messageCountingTime = 250 * time.Millisecond
	// inflatePiece is how much of an object stream is decompressed and searched at a time.
	inflatePiece = 32 << 10
	// pageMarkerCarry is how much of a piece is searched again with the next one, so that a
	// "/Type /Page" cut between two pieces is still found.
	pageMarkerCarry = 64
	// maxObjectStreams bounds the object streams looked into per document.
	maxObjectStreams = 10000
	// maxObjectBytes bounds how far an object's dictionary is looked at.
	maxObjectBytes = 64 << 10
)

// ErrCountingBudget is returned when counting would take more than a message may cost; the
// pages are then unknown.
var ErrCountingBudget = errors.New("fax: page counting budget spent")

// pageCounter counts the pages of one message's documents within one budget of decompressed
// bytes and of time, shared by all of them: a mail of a hundred documents costs no more than
// a mail of one.
type pageCounter struct {
	inflateBudget int64
	inflateLeft   int64
	timeBudget    time.Duration
	deadline      time.Time
	src           bytes.Reader
	inflater      zlibReader // made on first use, then reset for every object stream
	piece         []byte
}

// zlibReader is what compress/zlib's reader is: resettable, so one decompressor serves every
// object stream.
type zlibReader interface {
	io.Reader
	zlib.Resetter
}

func newPageCounter(inflateBudget int64, timeBudget time.Duration) *pageCounter {
	return &pageCounter{inflateBudget: inflateBudget, inflateLeft: inflateBudget, timeBudget: timeBudget,
		deadline: time.Now().Add(timeBudget)}
}

// outOfTime reports whether the counter's time is spent.
func (c *pageCounter) outOfTime() bool { return !time.Now().Before(c.deadline) }

func (c *pageCounter) checkTime() error {
	if c.outOfTime() {
		return fmt.Errorf("%w: over %v", ErrCountingBudget, c.timeBudget)
	}
	return nil
}

// count counts the pages of a TIFF or PDF.
func (c *pageCounter) count(data []byte) (int, error) {
	if err := c.checkTime(); err != nil {
		return 0, err
	}
	switch Sniff(data) {
	case KindTIFF:
		return CountTIFFPages(bytes.NewReader(data), int64(len(data)))
	case KindPDF:
		return c.pdfPages(data)
	}
	return 0, errNotFaxDocument
}

// CountPDFPages counts the pages of a PDF. It trusts the /Count of the document's root page
// tree when the catalog can be found in clear text (the case of fax gateways' PDFs, and of
// incrementally updated files whose old page objects are still there), and otherwise counts
// the /Type /Page objects, looking inside compressed object streams too, within the budget
// of one message (ErrCountingBudget beyond it).
func CountPDFPages(data []byte) (int, error) {
	return newPageCounter(messageInflateBudget, messageCountingTime).pdfPages(data)
}

func (c *pageCounter) pdfPages(data []byte) (int, error) {
	if !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return 0, ErrNotPDF
	}
	if n, ok := rootPageCount(data); ok {
		return n, nil
	}
	n, _ := countPageObjects(data, true)
	next := 0
	for streams := 0; streams < maxObjectStreams && n <= MaxPages; streams++ {
		end, ok := nextTypeEntry(data, next, "/ObjStm", endsWord, true)
		if !ok {
			break
		}
		next = end
		if err := c.checkTime(); err != nil {
			return 0, err
		}
		start, ok := streamStart(data, end)
		if !ok {
			continue
		}
		found, err := c.pageObjectsInStream(data[start:])
		if err != nil {
			return 0, err
		}
		n += found
	}
	switch {
	case n == 0:
		return 0, ErrNoPages
	case n > MaxPages:
		return 0, fmt.Errorf("%w: more than %d page objects", ErrTooManyPages, MaxPages)
	}
	return n, nil
}

// pageObjectsInStream decompresses one zlib object stream a piece at a time and counts the
// page objects in it; only a piece is ever in memory. Data that is not zlib holds none.
func (c *pageCounter) pageObjectsInStream(compressed []byte) (int, error) {
	zr, ok := c.inflate(compressed)
	if !ok {
		return 0, nil
	}
	if c.piece == nil {
		c.piece = make([]byte, pageMarkerCarry+inflatePiece)
	}
	found, carried := 0, 0
	for {
		if err := c.checkTime(); err != nil {
			return 0, err
		}
		if c.inflateLeft <= 0 {
			return 0, fmt.Errorf("%w: %d KiB decompressed", ErrCountingBudget, c.inflateBudget>>10)
		}
		room := int(min(int64(len(c.piece)-carried), c.inflateLeft))
		read, err := io.ReadFull(zr, c.piece[carried:carried+room])
		c.inflateLeft -= int64(read)
		window := c.piece[:carried+read]
		// The end of the stream, or of what can be decompressed of it (a damaged stream still
		// counts up to the damage).
		last := err != nil
		n, keepFrom := countPageObjects(window, last)
		found += n
		if last || found > MaxPages {
			return found, nil
		}
		carried = copy(c.piece, window[keepFrom:])
	}
}

// inflate starts decompressing a zlib stream; false when it does not start like one.
func (c *pageCounter) inflate(compressed []byte) (io.Reader, bool) {
	c.src.Reset(compressed)
	if c.inflater == nil {
		zr, err := zlib.NewReader(&c.src)
		if err != nil {
			return nil, false
		}
		c.inflater = zr.(zlibReader)
		return c.inflater, true
	}
	if err := c.inflater.Reset(&c.src, nil); err != nil {
		return nil, false
	}
	return c.inflater, true
}

// countPageObjects counts the page objects ("/Type /Page") in b, up to one more than
// MaxPages. Unless b ends its data (complete), a name reaching the end of b may be cut short
// ("/Type /Page" the start of "/Type /Pages") and is left to the next piece; keepFrom is
// where the bytes to search again with the next piece begin, at most pageMarkerCarry before
// the end.
func countPageObjects(b []byte, complete bool) (n, keepFrom int) {
	counted := 0
	for n <= MaxPages {
		end, ok := nextTypeEntry(b, counted, "/Page", endsName, complete)
		if !ok {
			break
		}
		n++
		counted = end
	}
	return n, max(counted, len(b)-pageMarkerCarry)
}

// nextTypeEntry finds the first "/Type /<name>" entry (the white space optional) in b at or
// after from, and returns where the name ends; a name must be followed by a byte that ends
// it, or by the end of b when b is complete. It searches for the name as plain bytes: the
// equivalent pattern spent 200 ms on a 10 MiB file dense with "/Type".
func nextTypeEntry(b []byte, from int, name string, ends func(byte) bool, complete bool) (int, bool) {
	for from < len(b) {
		i := bytes.Index(b[from:], []byte(name))
		if i < 0 {
			return 0, false
		}
		start, end := from+i, from+i+len(name)
		from = start + 1
		if end == len(b) && !complete {
			return 0, false
		}
		if end < len(b) && !ends(b[end]) {
			continue
		}
		head := b[:start]
		if bytes.HasSuffix(head[:len(head)-trailingSpaces(head)], []byte("/Type")) {
			return end, true
		}
	}
	return 0, false
}

// endsName reports whether b ends a PDF name: white space, a delimiter or a comment.
func endsName(b byte) bool { return isSpace(b) || strings.IndexByte("()<>[]{}/%", b) >= 0 }

// endsWord reports whether b ends a word (\b after a letter).
func endsWord(b byte) bool { return !isWordByte(b) }

// rootPageCount follows trailer /Root -> catalog /Pages -> /Count.
func rootPageCount(data []byte) (int, bool) {
	num, gen, ok := lastRootRef(data)
	if !ok {
		return 0, false
	}
	catalog, ok := findObject(data, num, gen)
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

// lastRootRef reads the reference of the last "/Root num gen R" (the last trailer wins after
// incremental updates). It searches backwards for the name and parses what follows by hand:
// collecting every match of a pattern cost a 10 MiB file of "/Root 1 0 R" 2 s and 230 MiB.
func lastRootRef(data []byte) (num, gen []byte, ok bool) {
	for end := len(data); ; {
		i := bytes.LastIndex(data[:end], []byte("/Root"))
		if i < 0 {
			return nil, nil, false
		}
		if num, gen, ok := parseRef(data[i+len("/Root"):]); ok {
			return num, gen, true
		}
		end = i
	}
}

// parseRef parses the " num gen R" of an indirect reference at the start of b.
func parseRef(b []byte) (num, gen []byte, ok bool) {
	num, b, ok = spacedNumber(b, 10)
	if !ok {
		return nil, nil, false
	}
	gen, b, ok = spacedNumber(b, 5)
	if !ok {
		return nil, nil, false
	}
	if n := leadingSpaces(b); n == 0 || n == len(b) || b[n] != 'R' {
		return nil, nil, false
	}
	return num, gen, true
}

// spacedNumber reads white space then up to maxDigits digits at the start of b.
func spacedNumber(b []byte, maxDigits int) (number, rest []byte, ok bool) {
	s := leadingSpaces(b)
	if s == 0 {
		return nil, b, false
	}
	b = b[s:]
	d := 0
	for d < len(b) && isDigit(b[d]) {
		d++
	}
	if d == 0 || d > maxDigits {
		return nil, b, false
	}
	return b[:d], b[d:], true
}

// findObject returns the dictionary of object "num gen obj ... endobj", its last definition.
func findObject(data, num, gen []byte) ([]byte, bool) {
	start, ok := lastObjectStart(data, num, gen)
	if !ok {
		return nil, false
	}
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

// lastObjectStart finds where the last "num gen obj" ends, searching backwards for "obj" and
// checking what precedes it, with no pattern compiled from the file and no list of matches.
func lastObjectStart(data, num, gen []byte) (int, bool) {
	for end := len(data); ; {
		i := bytes.LastIndex(data[:end], []byte("obj"))
		if i < 0 {
			return 0, false
		}
		end = i
		after := i + len("obj")
		if after < len(data) && isWordByte(data[after]) {
			continue
		}
		if endsWithObjectNumber(data[:i], num, gen) {
			return after, true
		}
	}
}

// endsWithObjectNumber reports whether head ends with "num gen " standing alone (no digit
// before num).
func endsWithObjectNumber(head, num, gen []byte) bool {
	for _, part := range [][]byte{gen, num} {
		s := trailingSpaces(head)
		if s == 0 || !bytes.HasSuffix(head[:len(head)-s], part) {
			return false
		}
		head = head[:len(head)-s-len(part)]
	}
	return len(head) == 0 || !isDigit(head[len(head)-1])
}

// isSpace is white space as the patterns here mean it (\s).
func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f'
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func isWordByte(b byte) bool {
	return isDigit(b) || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || b == '_'
}

func leadingSpaces(b []byte) int {
	n := 0
	for n < len(b) && isSpace(b[n]) {
		n++
	}
	return n
}

func trailingSpaces(b []byte) int {
	n := 0
	for n < len(b) && isSpace(b[len(b)-1-n]) {
		n++
	}
	return n
}

// streamStart is where the data of the first stream after pos begins. Its end is not looked
// for: the decompressor stops at the end of its own data, and searching for "endstream" from
// every object stream of a file that has none made counting quadratic.
func streamStart(data []byte, pos int) (int, bool) {
	window := data[pos:min(len(data), pos+maxObjectBytes)]
	s := bytes.Index(window, []byte("stream"))
	if s < 0 || bytes.HasPrefix(window[s:], []byte("streamx")) {
		return 0, false
	}
	start := pos + s + len("stream")
	if start < len(data) && data[start] == '\r' {
		start++
	}
	if start < len(data) && data[start] == '\n' {
		start++
	}
	return start, true
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
	return newPageCounter(messageInflateBudget, messageCountingTime).count(data)
}

var errNotFaxDocument = errors.New("fax: neither TIFF nor PDF")
