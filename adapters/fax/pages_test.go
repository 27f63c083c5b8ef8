package fax

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The fixtures in testdata were made with ImageMagick 6.9, libtiff-tools 4.5 and DejaVu Sans:
//
//	fax.tif (two pages, Group 4, 200 dpi, min-is-white):
//	  convert -density 200 -units PixelsPerInch -size 1654x1100 xc:white -font DejaVu-Sans \
//	    -pointsize 22 -annotate +120+180 "Comune di Firenze - richiesta permesso ZTL" ... \
//	    -depth 1 -type bilevel -define quantum:polarity=min-is-white -compress none pN.tif
//	  tiffcp -c g4 p1.tif p2.tif fax.tif
//	fax.pdf: tiff2pdf -o fax.pdf fax.tif (what fax gateways send)
//	fax_standard.tif (one page, Group 3, 204x98 dpi): text rendered at 1728x1080, then
//	  -resize '100%x50%!' -density 204x98 ... and tiffcp -c g3
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// buildTIFF crafts a classic TIFF with one directory per entry of next: directory i points to
// directory next[i], or ends the chain when next[i] is -1. Directories listed in reduced are
// marked as reduced-resolution copies.
func buildTIFF(order binary.ByteOrder, next []int, reduced ...int) []byte {
	const entries = 2
	const ifdSize = 2 + 12*entries + 4
	buf := make([]byte, 8+len(next)*ifdSize)
	if order == binary.LittleEndian {
		copy(buf, "II")
	} else {
		copy(buf, "MM")
	}
	order.PutUint16(buf[2:], 42)
	order.PutUint32(buf[4:], 8)
	isReduced := map[int]bool{}
	for _, r := range reduced {
		isReduced[r] = true
	}
	for i, n := range next {
		off := 8 + i*ifdSize
		order.PutUint16(buf[off:], entries)
		e := buf[off+2:]
		order.PutUint16(e[0:], 254) // NewSubfileType, LONG
		order.PutUint16(e[2:], 4)
		order.PutUint32(e[4:], 1)
		if isReduced[i] {
			order.PutUint32(e[8:], 1)
		}
		order.PutUint16(e[12:], 256) // ImageWidth, SHORT
		order.PutUint16(e[14:], 3)
		order.PutUint32(e[16:], 1)
		order.PutUint16(e[20:], 1728)
		if n >= 0 {
			order.PutUint32(buf[off+2+12*entries:], uint32(8+n*ifdSize))
		}
	}
	return buf
}

// buildBigTIFF crafts a little-endian BigTIFF the same way.
func buildBigTIFF(next []int) []byte {
	const ifdSize = 8 + 20 + 8
	le := binary.LittleEndian
	buf := make([]byte, 16+len(next)*ifdSize)
	copy(buf, "II")
	le.PutUint16(buf[2:], 43)
	le.PutUint16(buf[4:], 8)
	le.PutUint64(buf[8:], 16)
	for i, n := range next {
		off := 16 + i*ifdSize
		le.PutUint64(buf[off:], 1)
		le.PutUint16(buf[off+8:], 256)
		le.PutUint16(buf[off+10:], 3)
		le.PutUint64(buf[off+12:], 1)
		le.PutUint16(buf[off+20:], 1728)
		if n >= 0 {
			le.PutUint64(buf[off+28:], uint64(16+n*ifdSize))
		}
	}
	return buf
}

func countTIFF(data []byte) (int, error) {
	return CountTIFFPages(bytes.NewReader(data), int64(len(data)))
}

func TestCountTIFFPagesFixtures(t *testing.T) {
	for name, want := range map[string]int{"fax.tif": 2, "fax_standard.tif": 1} {
		n, err := countTIFF(readFixture(t, name))
		if err != nil || n != want {
			t.Errorf("%s: %d pages, %v; want %d", name, n, err, want)
		}
	}
}

func TestCountTIFFPages(t *testing.T) {
	chain := func(n int) []int {
		next := make([]int, n)
		for i := range next {
			next[i] = i + 1
		}
		next[n-1] = -1
		return next
	}
	cases := []struct {
		name string
		data []byte
		want int
		err  error
	}{
		{"little endian", buildTIFF(binary.LittleEndian, chain(3)), 3, nil},
		{"big endian", buildTIFF(binary.BigEndian, chain(3)), 3, nil},
		{"directories out of order", buildTIFF(binary.BigEndian, []int{2, -1, 1}), 3, nil},
		{"thumbnail is not a page", buildTIFF(binary.LittleEndian, chain(3), 1), 2, nil},
		{"bigtiff", buildBigTIFF(chain(4)), 4, nil},
		{"self loop", buildTIFF(binary.LittleEndian, []int{0}), 1, ErrTIFFLoop},
		{"two-directory loop", buildTIFF(binary.BigEndian, []int{1, 0}), 2, ErrTIFFLoop},
		{"loop back into the chain", buildTIFF(binary.LittleEndian, []int{1, 2, 1}), 3, ErrTIFFLoop},
		{"bigtiff loop", buildBigTIFF([]int{1, 0}), 2, ErrTIFFLoop},
		{"endless chain", buildTIFF(binary.LittleEndian, chain(MaxPages+5)), MaxPages, ErrTooManyPages},
		{"not a tiff", []byte("GIF89a......"), 0, ErrNotTIFF},
		{"empty", nil, 0, ErrNotTIFF},
		{"cut in the middle", buildTIFF(binary.LittleEndian, chain(3))[:40], 1, ErrTruncated},
		{"no directory", []byte("II*\x00\x00\x00\x00\x00"), 0, ErrNoPages},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			n, err := countTIFF(c.data)
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if n != c.want || !errors.Is(err, c.err) {
				t.Errorf("got %d, %v; want %d, %v", n, err, c.want, c.err)
			}
		})
	}
	// A next-directory offset past the end of the file.
	data := buildTIFF(binary.LittleEndian, []int{-1})
	binary.LittleEndian.PutUint32(data[8+2+24:], 1<<30)
	if n, err := countTIFF(data); !errors.Is(err, ErrTruncated) || n != 1 {
		t.Errorf("dangling next offset: %d, %v", n, err)
	}
}

func TestTIFFResolution(t *testing.T) {
	x, y, ok := tiffResolution(readFixture(t, "fax_standard.tif"))
	if !ok || x != 204 || y != 98 {
		t.Errorf("standard fax resolution %v x %v (%v)", x, y, ok)
	}
	x, y, ok = tiffResolution(readFixture(t, "fax.tif"))
	if !ok || x != 200 || y != 200 {
		t.Errorf("fine fax resolution %v x %v (%v)", x, y, ok)
	}
}

// pdfWithObjects lays out numbered objects and a trailer.
func pdfWithObjects(version string, objects map[int]string, trailer string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-" + version + "\n%\xe2\xe3\xcf\xd3\n")
	for i := 1; i <= len(objects)+10; i++ {
		if o, ok := objects[i]; ok {
			fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i, o)
		}
	}
	b.WriteString(trailer + "\n%%EOF\n")
	return b.Bytes()
}

func TestCountPDFPages(t *testing.T) {
	simple := pdfWithObjects("1.4", map[int]string{
		1: "<< /Type /Catalog /Pages 2 0 R >>",
		2: "<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >>",
		3: "<< /Type /Page /Parent 2 0 R >>",
		4: "<< /Type /Page /Parent 2 0 R >>",
		5: "<< /Type/Page/Parent 2 0 R >>",
	}, "trailer\n<< /Size 6 /Root 1 0 R >>")

	// An incremental update that removed a page: the old page object is still in the file,
	// the new page tree counts 2.
	updated := append(append([]byte{}, simple...), []byte("2 0 obj\n<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>\nendobj\n"+
		"trailer\n<< /Size 6 /Root 1 0 R /Prev 9 >>\n%%EOF\n")...)

	// PDF 1.5 with the catalog and pages packed in a compressed object stream.
	var packed bytes.Buffer
	objs := "<< /Type /Catalog /Pages 2 0 R >> << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> " +
		"<< /Type /Page /Parent 2 0 R >> << /Type /Page /Parent 2 0 R >>"
	zw := zlib.NewWriter(&packed)
	if _, err := zw.Write([]byte("1 0 2 34 3 93 4 126 " + objs)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	compressed := []byte(fmt.Sprintf("%%PDF-1.5\n5 0 obj\n<< /Type /ObjStm /N 4 /First 20 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n"+
		"6 0 obj\n<< /Type /XRef /Root 1 0 R /Size 7 >>\nstream\n\x00\x00\nendstream\nendobj\nstartxref\n0\n%%%%EOF\n", packed.Len(), packed.Bytes()))

	noRoot := pdfWithObjects("1.3", map[int]string{
		3: "<< /Type /Page >>", 4: "<< /Type /Page >>", 7: "<< /Type /Pages /Count 99 >>",
	}, "trailer\n<< /Size 8 >>")

	cases := []struct {
		name string
		data []byte
		want int
		err  error
	}{
		{"tiff2pdf fax", readFixture(t, "fax.pdf"), 2, nil},
		{"simple", simple, 3, nil},
		{"incremental update", updated, 2, nil},
		{"object stream", compressed, 2, nil},
		{"no catalog: page objects counted", noRoot, 2, nil},
		{"not a pdf", []byte("II*\x00"), 0, ErrNotPDF},
		{"no pages", pdfWithObjects("1.4", map[int]string{1: "<< /Type /Catalog >>"}, "trailer << /Root 1 0 R >>"), 0, ErrNoPages},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := CountPDFPages(c.data)
			if n != c.want || !errors.Is(err, c.err) {
				t.Errorf("got %d, %v; want %d, %v", n, err, c.want, c.err)
			}
		})
	}
}

func TestCountPages(t *testing.T) {
	tif := readFixture(t, "fax.tif")
	pdf := readFixture(t, "fax.pdf")
	cases := []struct {
		ct, name string
		data     []byte
		want     int // 0 = nil
	}{
		{"image/tiff", "fax.tif", tif, 2},
		{"application/octet-stream", "FAX0001.fax", tif, 2}, // mislabelled: recognized by content
		{"application/pdf", "fax.pdf", pdf, 2},
		{"image/jpeg", "foto.jpg", []byte("\xff\xd8\xff\xe0 jpeg"), 0},
		{"image/tiff", "broken.tif", []byte("II*\x00\xff\xff\xff\x7f"), 0},
		{"text/plain", "nota.txt", []byte("ciao"), 0},
	}
	for _, c := range cases {
		got := CountPages(c.ct, c.name, c.data)
		switch {
		case c.want == 0 && got != nil:
			t.Errorf("%s: %d pages, want nil", c.name, *got)
		case c.want != 0 && (got == nil || *got != c.want):
			t.Errorf("%s: %v, want %d", c.name, got, c.want)
		}
	}
}

// allocatedBy runs f and reports the bytes it allocated and the time it took.
func allocatedBy(f func()) (uint64, time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, took
}

// pdfObjectStreamBomb is a PDF whose one object stream inflates to size zero bytes.
func pdfObjectStreamBomb(t testing.TB, size int) []byte {
	t.Helper()
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	pdf := append([]byte("%PDF-1.4\n1 0 obj\n<< /Type /ObjStm >>\nstream\n"), z.Bytes()...)
	return append(pdf, "\nendstream\nendobj\n"...)
}

// A 64 KiB PDF whose object stream inflates to 64 MiB: counting stops at the budget, in
// pieces, and the pages are unknown.
func TestCountPDFPagesStopsAtTheInflateBudget(t *testing.T) {
	bomb := pdfObjectStreamBomb(t, 64<<20)
	var n int
	var err error
	alloc, took := allocatedBy(func() { n, err = CountPDFPages(bomb) })
	t.Logf("%d KiB: %v, %d KiB allocated", len(bomb)>>10, took, alloc>>10)
	if n != 0 || !errors.Is(err, ErrCountingBudget) {
		t.Errorf("got %d, %v; want %v", n, err, ErrCountingBudget)
	}
	if alloc > 4<<20 || took > time.Second {
		t.Errorf("counting the pages of a %d KiB PDF allocated %d KiB and took %v", len(bomb)>>10, alloc>>10, took)
	}
}

// Hostile 10 MiB PDFs that made counting quadratic (object streams without "endstream") or
// costly (a pattern's every match collected, a pattern tried at every "/Type") stay cheap.
func TestCountPDFPagesHostileTextStaysCheap(t *testing.T) {
	repeat := func(head, unit string) []byte {
		var b bytes.Buffer
		b.WriteString(head)
		for b.Len() < 10<<20 {
			b.WriteString(unit)
		}
		return b.Bytes()
	}
	cases := map[string][]byte{
		"object streams without endstream": repeat("%PDF-1.4\n", "1 0 obj << /Type /ObjStm >> stream\n"+strings.Repeat("x", 1000)),
		"object streams of empty zlib":     repeat("%PDF-1.4\n", "/Type /ObjStm stream\nx\x9c\x03\x00\x00\x00\x00\x01 "),
		"roots":                            repeat("%PDF-1.4\n", "/Root 1 0 R "),
		"object headers":                   repeat("%PDF-1.4\n/Root 1 0 R\n", "1 0 obj "),
		"types that are not pages":         repeat("%PDF-1.4\n", "/Type /Pages /Type /Font "),
	}
	for name, data := range cases {
		alloc, took := allocatedBy(func() { _, _ = CountPDFPages(data) })
		t.Logf("%s: %v, %d KiB allocated", name, took, alloc>>10)
		if took > 2*time.Second || alloc > 16<<20 {
			t.Errorf("%s: counting the pages of 10 MiB took %v and %d MiB", name, took, alloc>>20)
		}
	}
}

// Object streams are searched a piece at a time: a page object cut between two pieces is
// counted once, and "/Type /Page" that a piece ends in the middle of "/Type /Pages" is not a
// page.
func TestPageObjectsCountedAcrossPieces(t *testing.T) {
	first := pageMarkerCarry + inflatePiece // the first piece's size
	for shift := -24; shift <= 4; shift++ {
		var text bytes.Buffer
		text.WriteString(strings.Repeat(" ", first+shift-len("/Type /Page")))
		text.WriteString("/Type /Pages /Kids [] /Type /Page /Parent 2 0 R >> <</Type/Page>>")
		text.WriteString(strings.Repeat(" ", inflatePiece))
		text.WriteString("<< /Type\n/Page\n>>")
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		_, _ = zw.Write(text.Bytes())
		_ = zw.Close()
		n, err := newPageCounter(messageInflateBudget, time.Minute).pageObjectsInStream(z.Bytes())
		if n != 3 || err != nil {
			t.Errorf("page tree %+d bytes from the first piece's end: %d pages, %v; want 3", shift, n, err)
		}
	}
}
