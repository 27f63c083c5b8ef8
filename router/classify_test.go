package router

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/sportello/sportello/config"
)

// citizenMessages are messages as citizens write them (SMS shorthand included), with the
// category an operator would file them under.
var citizenMessages = []struct {
	text, want string
}{
	// Blocco del traffico
	{"Buongiorno, domenica c'è il blocco del traffico a Firenze?", "blocco-traffico"},
	{"blocco del traffico domenica", "blocco-traffico"},
	{"dmn c'è il blocco? ho 1 diesel euro 4", "blocco-traffico"},
	{"Posso circolare domani con la mia auto Euro 3 diesel o ci sono limitazioni per lo smog?", "blocco-traffico"},
	{"ciao, x i livelli di PM10 fermano le auto anche sabato?", "blocco-traffico"},
	{"Quando sono le prossime DOMENICHE ECOLOGICHE?", "blocco-traffico"},
	{"xké via Pistoiese è chiusa al traffico? strada chiusa da ieri", "blocco-traffico"},
	{"è confermato il BLOCCO TRAFFICO di giovedì per l'inquinamento?", "blocco-traffico"},
	// Contravvenzioni
	{"Ho ricevuto una multa per divieto di sosta ma ero in regola", "contravvenzioni"},
	{"mi è arrivato un verbale dall'autovelox di viale Etruria, come si paga?", "contravvenzioni"},
	{"salve vorrei fare ricorso contro la contravvenzione del 3 marzo", "contravvenzioni"},
	{"ciao ho preso 2 multe nella stessa settimana, posso pagarle insieme?", "contravvenzioni"},
	{"Sono stato multato ingiustamente", "contravvenzioni"},
	{"quanti punti patente perdo x passare col rosso?", "contravvenzioni"},
	{"CONTRAVVENZIONI NON NOTIFICATE IN TEMPO, SONO VALIDE?", "contravvenzioni"},
	{"Mi hanno notificato una sanzione amministrativa, entro quando devo pagare?", "contravvenzioni"},
	// Permessi ZTL
	{"permesso ZTL", "permessi-ztl"},
	{"Come rinnovo il permesso per la ZTL? sono residente in centro", "permessi-ztl"},
	{"sn passato dal varco ztl col permesso scaduto", "permessi-ztl"},
	{"Vorrei il contrassegno per la zona a traffico limitato per mia madre invalida", "permessi-ztl"},
	{"quanto costa il pass x i residenti?", "permessi-ztl"},
	// Incentivi veicoli
	{"Ci sono incentivi per comprare un'auto elettrica?", "incentivi-veicoli"},
	{"Il bonus per la bicicletta elettrica è ancora attivo?", "incentivi-veicoli"},
	{"Buonasera, vorrei sapere come avere il contributo per la rottamazione della mia vecchia auto", "incentivi-veicoli"},
	{"contributi x trasformazione a GPL o metano?", "incentivi-veicoli"},
	// Reclami e suggerimenti
	{"Voglio fare un reclamo: l'autobus 14 non è passato per un'ora, è una vergogna", "reclami-suggerimenti"},
	{"Un suggerimento: mettete più panchine in piazza", "reclami-suggerimenti"},
	{"vorrei segnalare un disservizio allo sportello", "reclami-suggerimenti"},
	{"Lamentela per il rumore dei lavori notturni, inaccettabile", "reclami-suggerimenti"},
	// Servizi generici
	{"Buongiorno, quali sono gli orari dell'anagrafe?", "servizi-generici"},
	{"Devo rinnovare la carta d'identità, serve l'appuntamento?", "servizi-generici"},
	{"mi serve un certificato di residenza urgente", "servizi-generici"},
	{"ciao come pago la TARI?", "servizi-generici"},
	{"iscrizione alla mensa scolastica: a quale ufficio mi rivolgo?", "servizi-generici"},
	{"Vorrei informazioni sulla raccolta dei rifiuti ingombranti", "servizi-generici"},
	{"CARTA DI IDENTITA SCADUTA COSA DEVO FARE", "servizi-generici"},
	// Altro
	{"Grazie mille, buona giornata!", "altro"},
	{"ok", "altro"},
	{"", "altro"},
	{"???", "altro"},
}

func defaultClassifier(t testing.TB) *Classifier {
	t.Helper()
	c, err := NewClassifier(config.DefaultCategories())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The pre-test that spares most words their lookups never turns away a word a keyword
// matches, and turns away words no keyword begins.
func TestMayStartPassesEveryKeywordsFirstWord(t *testing.T) {
	c := defaultClassifier(t)
	extra, err := NewClassifier([]config.Category{{ID: "x", Keywords: []string{"a", "pm*", "e*", "ztl"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*Classifier{c, extra} {
		for _, k := range cl.keywords {
			w := k.words[0]
			if !cl.mayStart([]byte(w.text)) {
				t.Errorf("%q turned away", w.text)
			}
			if w.prefix && !cl.mayStart([]byte(w.text+"zzz")) {
				t.Errorf("%q (a word %q* matches) turned away", w.text+"zzz", w.text)
			}
		}
	}
	tk := tokenize("Buongiorno scrivo che il marciapiede rischiano cortesemente")
	for i := 0; i < tk.len(); i++ {
		if c.mayStart(tk.at(i)) {
			t.Errorf("%q passes, though no default keyword begins like it", tk.str(i))
		}
	}
}

// One classifier serves every SMTP session at once, reusing its scratch buffers between texts
// of every length: each text still gets its own answer.
func TestClassifyConcurrently(t *testing.T) {
	c := defaultClassifier(t)
	long := strings.Repeat("Buongiorno, vorrei sapere quando passa il ritiro dei rifiuti ingombranti. ", 60) + " multa"
	wantLong := defaultClassifier(t).Classify(long)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				for j, m := range citizenMessages {
					if (i+j+g)%7 == 0 {
						if got := c.Classify(long); got != wantLong {
							t.Errorf("long text: %q, want %q", got, wantLong)
						}
					}
					if got := c.Classify(m.text); got != m.want {
						t.Errorf("Classify(%q) = %q, want %q", m.text, got, m.want)
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestClassifyCitizenMessages(t *testing.T) {
	c := defaultClassifier(t)
	for _, m := range citizenMessages {
		if got := c.Classify(m.text); got != m.want {
			t.Errorf("Classify(%q) = %q, want %q", m.text, got, m.want)
		}
	}
}

func TestClassifyInflectionsOfDefaults(t *testing.T) {
	c := defaultClassifier(t)
	for want, texts := range map[string][]string{
		"contravvenzioni": {"multa", "multe", "Multato", "verbale", "verbali", "contravvenzione", "contravvenzioni", "sanzionato", "infrazione"},
		"blocco-traffico": {"blocco del traffico domenica", "blocco", "targhe alterne", "divieto di circolazione", "divieto circolazione", "chiusura strade"},
		"permessi-ztl":    {"permesso ZTL", "permessi", "cos'è la zona a traffico limitato?", "varchi"},
		"servizi-generici": {"carta d'identità", "carta d’identità", "carta di identità", "CARTA D'IDENTITA'",
			"carta d'identita\u0300" /* decomposed accent */, "certificati", "orario"},
		"incentivi-veicoli":    {"incentivo", "rottamazione", "contributi"},
		"reclami-suggerimenti": {"reclamo", "reclami", "lamentele", "segnalazione", "suggerimenti"},
	} {
		for _, text := range texts {
			if got := c.Classify(text); got != want {
				t.Errorf("Classify(%q) = %q, want %q", text, got, want)
			}
		}
	}
}

func TestClassifyRules(t *testing.T) {
	cats := []config.Category{
		{ID: "uno", Keywords: []string{"mult*", "verbale"}},
		{ID: "due", Keywords: []string{"zona traffico limitato", "traffico", "euro 4"}},
		{ID: "tre", Keywords: []string{"verbale", "permesso di soggiorno"}},
		{ID: "quattro", Keywords: []string{"permesso*"}},
		{ID: "nessuno"},
		{ID: "ultimo"},
	}
	c, err := NewClassifier(cats)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ text, want string }{
		{"multa", "uno"},
		{"MULTÈ", "uno"},
		{"mult", "uno"},      // * matches the empty ending
		{"emulta", "ultimo"}, // whole words only: a * does not match at the start
		{"verbale", "uno"},   // tie between uno and tre: the one listed first
		{"verbale verbale multa", "uno"},
		{"verbale del permesso di soggiorno", "tre"},                   // 2 hits for tre: the phrase outranks permesso*
		{"permesso per il soggiorno", "tre"},                           // stopwords skipped inside a phrase
		{"permesso, soggiorno", "tre"},                                 // punctuation is not a word
		{"permesso bello soggiorno", "quattro"},                        // another word breaks the phrase
		{"soggiorno permesso", "quattro"},                              // phrases keep their order
		{"zona a traffico limitato", "due"},                            // one hit, not two
		{"euro4", "due"},                                               // letters and digits split
		{"euro 40", "ultimo"},                                          // digits are whole words too
		{"niente di tutto ciò", "ultimo"},                              // the last category without keywords
		{strings.Repeat("zzz ", MaxClassifyBytes) + "multa", "ultimo"}, // only the head is read
	} {
		if got := c.Classify(tc.text); got != tc.want {
			t.Errorf("Classify(%.40q) = %q, want %q", tc.text, got, tc.want)
		}
	}

	var scores [6]int
	c.score("zona a traffico limitato, traffico e multe per il permesso di soggiorno", scores[:])
	if scores != [6]int{1, 2, 1, 0, 0, 0} {
		t.Errorf("scores = %v, want [1 2 1 0 0 0]", scores)
	}
}

func TestClassifyFallbackWithoutKeywordlessCategory(t *testing.T) {
	c, err := NewClassifier([]config.Category{{ID: "a", Keywords: []string{"x*"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Classify("niente"); got != FallbackCategory {
		t.Fatalf("got %q, want %q", got, FallbackCategory)
	}
	empty, err := NewClassifier(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := empty.Classify("multa"); got != FallbackCategory {
		t.Fatalf("no categories: got %q", got)
	}
}

func TestNewClassifierRejectsBrokenKeywords(t *testing.T) {
	for _, cats := range [][]config.Category{
		{{ID: "", Keywords: []string{"a"}}},
		{{ID: "a"}, {ID: "a"}},
		{{ID: "a", Keywords: []string{"*"}}},
		{{ID: "a", Keywords: []string{"mu*ta"}}},
		{{ID: "a", Keywords: []string{"  "}}},
		{{ID: "a", Keywords: []string{"!!"}}},
	} {
		_, err := NewClassifier(cats)
		var ce *CategoryError
		if !errors.As(err, &ce) {
			t.Errorf("%+v: error %v, want a *CategoryError", cats, err)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, m := range citizenMessages {
		f.Add(m.text)
	}
	f.Add("carta d'identita\u0300 \xff\xfe multa*")
	f.Add("ǅ ﬁ Ⅻ ١٢٣ 𝔪𝔲𝔩𝔱𝔞")
	c := defaultClassifier(f)
	valid := map[string]bool{}
	for _, cat := range config.DefaultCategories() {
		valid[cat.ID] = true
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := c.Classify(text)
		if !valid[got] {
			t.Fatalf("Classify(%q) = %q, not a category", text, got)
		}
		// A text with no keyword gets the category of a keyword added after it.
		if got == "altro" && len(text) < MaxClassifyBytes-16 {
			if got := c.Classify(text + " multa"); got != "contravvenzioni" {
				t.Fatalf("Classify(%q + \" multa\") = %q", text, got)
			}
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	c := defaultClassifier(b)
	texts := make([]string, len(citizenMessages))
	for i, m := range citizenMessages {
		texts[i] = m.text
	}
	long := strings.Repeat("Buongiorno, vorrei sapere se domenica c'è il blocco del traffico e se posso circolare con la mia auto euro 4. ", 10)
	b.Run("sms", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c.Classify(texts[i%len(texts)])
		}
	})
	b.Run("email-1KB", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(long)))
		for b.Loop() {
			c.Classify(long)
		}
	})
	// A citizen's letter as the SMTP benchmark sends them: 3 KB, few keywords.
	letter := strings.Repeat("Buongiorno, scrivo per segnalare che in via dei Serragli il marciapiede è dissestato da "+
		"settimane e le persone anziane rischiano di cadere. Vorrei sapere se il Comune ha in programma un intervento e "+
		"con quali tempi, dato che la situazione peggiora con la pioggia. Vi chiedo cortesemente di verificare. ", 9)
	b.Run("email-3KB-letter", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(letter)))
		for b.Loop() {
			c.Classify(letter)
		}
	})
}
