package operatorapi

import (
	"strings"
	"testing"
)

// FuzzSafeName: whatever a citizen named a file, its name in the export stays one harmless
// path element inside attachments/.
func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"carta.pdf", "../../etc/passwd", `..\..\win.ini`, "", ".", "..", "ñame è.txt", "/abs/path", "a\x00b", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := safeName(name)
		if got == "" || got == "." || got == ".." || strings.HasPrefix(got, ".") || len(got) > 100 {
			t.Fatalf("safeName(%q) = %q", name, got)
		}
		for _, r := range got {
			if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", r) {
				t.Fatalf("safeName(%q) = %q holds %q", name, got, r)
			}
		}
	})
}
