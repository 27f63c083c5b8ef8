package channels

import (
	"fmt"
	"sync"
	"testing"
)

func TestPhoneMemoAgreesWithNormalize(t *testing.T) {
	m := NewPhoneMemo(3)
	inputs := []string{"+390552768000", "055 2768000", "anonymous", "+39 347 123 4567", "0039055055", "client:alice", "+390552768000"}
	for round := 0; round < 2; round++ {
		for _, in := range inputs {
			if got, want := m.NormalizeOrRaw(in), NormalizePhoneOrRaw(in); got != want {
				t.Errorf("round %d: NormalizeOrRaw(%q) = %q, want %q", round, in, got, want)
			}
		}
	}
	if len(m.m) > 3 {
		t.Errorf("the memo holds %d numbers, at most 3 allowed", len(m.m))
	}
}

func TestPhoneMemoConcurrent(t *testing.T) {
	m := NewPhoneMemo(16)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				in := fmt.Sprintf("+39347%07d", i%40)
				if got := m.NormalizeOrRaw(in); got != in {
					t.Errorf("NormalizeOrRaw(%q) = %q", in, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkNormalizePhone(b *testing.B) {
	b.Run("parse", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			NormalizePhoneOrRaw("+390552768000")
		}
	})
	b.Run("memo", func(b *testing.B) {
		m := NewPhoneMemo(0)
		for i := 0; i < b.N; i++ {
			m.NormalizeOrRaw("+390552768000")
		}
	})
}

func TestPhoneMemoKeepsNoLongText(t *testing.T) {
	m := NewPhoneMemo(0)
	long := "+39" + string(make([]byte, 1000))
	if got, want := m.NormalizeOrRaw(long), NormalizePhoneOrRaw(long); got != want {
		t.Fatalf("NormalizeOrRaw of a long text = %q, want %q", got, want)
	}
	if len(m.m) != 0 {
		t.Fatalf("the memo kept a %d-byte key", len(long))
	}
}
