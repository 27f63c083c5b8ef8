package email

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// readMessage returns exactly what the reader held, whatever its size against the first
// buffer and however the reader splits it, and passes a reader's error on.
func TestReadMessage(t *testing.T) {
	for _, n := range []int{0, 1, 100, 8191, 8192, 8193, 100_000} {
		want := bytes.Repeat([]byte("0123456789abcdef\r\n"), n/18+1)[:n]
		for name, r := range map[string]io.Reader{
			"plain":    bytes.NewReader(want),
			"one byte": iotest.OneByteReader(bytes.NewReader(want)),
			"data+EOF": iotest.DataErrReader(bytes.NewReader(want)),
		} {
			got, err := readMessage(r, 8192)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%d bytes, %s: got %d bytes, %v", n, name, len(got), err)
			}
		}
	}
	boom := errors.New("connection reset")
	if _, err := readMessage(io.MultiReader(bytes.NewReader([]byte("Subject: x\r\n")), iotest.ErrReader(boom)), 8192); !errors.Is(err, boom) {
		t.Errorf("reader error: %v", err)
	}
}
