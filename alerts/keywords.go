package alerts

// CommandKind is what an SMS asks for.
type CommandKind int

const (
	// NotACommand: the message is for the operators.
	NotACommand CommandKind = iota
	CmdSubscribe
	CmdConfirm
	CmdStop
	CmdTraffic
	CmdHelp
)

func (k CommandKind) String() string {
	switch k {
	case CmdSubscribe:
		return "subscribe"
	case CmdConfirm:
		return "confirm"
	case CmdStop:
		return "stop"
	case CmdTraffic:
		return "traffic"
	case CmdHelp:
		return "help"
	}
	return "none"
}

// Command is an SMS keyword command and its arguments, folded.
type Command struct {
	Kind CommandKind
	// Keyword is the first word as folded ("iscrivi", "stop").
	Keyword string
	// Lang is the language the keyword is in: "en" for the English ones, else "it".
	Lang string
	// Args are the words after the keyword.
	Args []string
}

// keywords maps a folded first word to its command and language (contract section 5).
var keywords = map[string]struct {
	kind CommandKind
	lang string
}{
	"iscrivi":     {CmdSubscribe, "it"},
	"iscrivimi":   {CmdSubscribe, "it"},
	"subscribe":   {CmdSubscribe, "en"},
	"si":          {CmdConfirm, "it"},
	"yes":         {CmdConfirm, "en"},
	"stop":        {CmdStop, "it"},
	"cancella":    {CmdStop, "it"},
	"annulla":     {CmdStop, "it"},
	"unsubscribe": {CmdStop, "en"},
	"blocco":      {CmdTraffic, "it"},
	"blocchi":     {CmdTraffic, "it"},
	"traffico":    {CmdTraffic, "it"},
	"aiuto":       {CmdHelp, "it"},
	"info":        {CmdHelp, "it"},
	"help":        {CmdHelp, "en"},
}

// ParseCommand reads the keyword command an SMS starts with, case-, accent- and
// width-insensitively ("ＳＴＯＰ" is STOP). A confirmation (SI, SÌ, YES) counts only when it is
// the whole message, punctuation and spaces aside. Anything else is NotACommand and goes to the
// operators.
func ParseCommand(body string) Command {
	words := foldWords(body)
	if len(words) == 0 {
		return Command{}
	}
	k, ok := keywords[words[0]]
	if !ok {
		return Command{}
	}
	if k.kind == CmdConfirm && !isBare(body) {
		// "Sì, confermo l'appuntamento di domani" is a citizen talking to someone, not consent
		// to alerts: only a bare SI/YES confirms, anything longer goes to the operators.
		return Command{}
	}
	return Command{Kind: k.kind, Keyword: words[0], Lang: k.lang, Args: words[1:]}
}

// fillers are words citizens put between a keyword and what matters ("ISCRIVI AL COMUNE DI
// FIRENZE", "SUBSCRIBE TO EMPOLI").
var fillers = map[string]bool{
	"a": true, "al": true, "alla": true, "ai": true, "agli": true, "alle": true, "il": true, "lo": true, "la": true,
	"comune": true, "di": true, "del": true, "della": true, "dei": true, "per": true, "e": true, "ed": true,
	"to": true, "for": true, "the": true, "of": true, "and": true, "in": true, "me": true, "mi": true,
}

// comuneNames indexes the folded names a comune is known by, as word lists.
type comuneName struct {
	words  []string
	comune string
}

// matchComune finds the longest comune name at the start of words (fillers skipped) and returns
// the comune and the words after it. ok is false when no name starts there.
func matchComune(names []comuneName, words []string) (string, []string, bool) {
	i := 0
	for i < len(words) && fillers[words[i]] {
		i++
	}
	best, bestLen := "", 0
	for _, n := range names {
		if len(n.words) <= bestLen || i+len(n.words) > len(words) {
			continue
		}
		match := true
		for k, w := range n.words {
			if words[i+k] != w {
				match = false
				break
			}
		}
		if match {
			best, bestLen = n.comune, len(n.words)
		}
	}
	if bestLen == 0 {
		return "", words, false
	}
	return best, words[i+bestLen:], true
}

// findComune finds a comune name anywhere in words (BLOCCO "domani a Empoli?"), the longest
// at the first place one starts.
func findComune(names []comuneName, words []string) string {
	for i := range words {
		if c, _, ok := matchComune(names, words[i:]); ok {
			return c
		}
	}
	return ""
}

// withoutFillers drops filler words.
func withoutFillers(words []string) []string {
	var out []string
	for _, w := range words {
		if !fillers[w] {
			out = append(out, w)
		}
	}
	return out
}
