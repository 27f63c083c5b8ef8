package fax

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

func FuzzCountTIFFPages(f *testing.F) {
	f.Add(readFixture(f, "fax.tif"))
	f.Add(readFixture(f, "fax_standard.tif"))
	f.Add(buildTIFF(binary.LittleEndian, []int{1, 2, -1}))
	f.Add(buildTIFF(binary.BigEndian, []int{1, 0}))
	f.Add(buildTIFF(binary.LittleEndian, []int{-1, 2, 1}, 0))
	f.Add(buildBigTIFF([]int{1, -1}))
	f.Add([]byte("II*\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		n, err := CountTIFFPages(bytes.NewReader(data), int64(len(data)))
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v on %d bytes", d, len(data))
		}
		if n < 0 || n > MaxPages || (err == nil && n == 0) {
			t.Fatalf("%d pages, %v", n, err)
		}
		tiffResolution(data)
	})
}

func FuzzCountPDFPages(f *testing.F) {
	f.Add(readFixture(f, "fax.pdf"))
	f.Add(pdfWithObjects("1.4", map[int]string{
		1: "<< /Type /Catalog /Pages 2 0 R >>", 2: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		3: "<< /Type /Page /Parent 2 0 R >>",
	}, "trailer << /Root 1 0 R >>"))
	f.Add([]byte("%PDF-1.5\n1 0 obj << /Type /ObjStm >> stream\nx\x9c\x03\x00\x00\x00\x00\x01\nendstream"))
	f.Add([]byte("%PDF-1.0 /Root 99999999999 0 R /Type /Page"))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		n, err := CountPDFPages(data)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v on %d bytes", d, len(data))
		}
		if n < 0 || n > MaxPages || (err == nil && n == 0) || (err != nil && n != 0) {
			t.Fatalf("%d pages, %v", n, err)
		}
	})
}
