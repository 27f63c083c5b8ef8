package desk

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sportello/sportello/templates"
)

// The offer deadline counts the whisper's <Gather timeout>: if the template's changed and
// whisperGather did not, offers answered at the end of a long whisper would expire first.
func TestOfferDeadlineCountsTheWhispersGatherTimeout(t *testing.T) {
	text, err := templates.ParseText()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := text.Render("voice/whisper.xml", map[string]any{"Text": "Chiamata", "AcceptURL": "https://x.test/accept"})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`timeout="%d"`, int(whisperGather.Seconds()))
	if !strings.Contains(doc, "<Gather") || !strings.Contains(doc, want) {
		t.Fatalf("the whisper's <Gather> does not have %s, which the offer deadline counts:\n%s", want, doc)
	}
}
