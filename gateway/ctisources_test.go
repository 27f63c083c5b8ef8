package gateway

import (
	"testing"

	"github.com/sportello/sportello/config"
)

// A token still written as `config print`'s mask opens nothing: whoever saw the printout knows
// it. The other sources stay.
func TestMaskedCTITokenOpensNothing(t *testing.T) {
	cfg, err := config.Parse([]byte("comuni: [{id: a, name: A}]\ncti: {token: \"" + config.Masked + "\", sources: [{name: nord, token: nord-token-0123456789}, {name: sud, token: \"" + config.Masked + "\"}]}"))
	if err != nil {
		t.Fatal(err)
	}
	sources, err := ctiSources(cfg.CTI)
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) != 1 || sources[0].Name != "nord" {
		t.Fatalf("sources %+v, want nord alone", sources)
	}
}
