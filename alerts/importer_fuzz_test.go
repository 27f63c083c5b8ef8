package alerts

import (
	"strings"
	"testing"
)

// An import file comes from whatever spreadsheet a comune exported: reading it ends in its
// rows or in a refusal with a code the command prints, never in a panic; every row read is
// either kept, with its phone field and a language of it or en, or counted as invalid.
func FuzzReadImportFile(f *testing.F) {
	for _, seed := range []string{
		"\ufeffNome;Telefono;Lingua\nAnna;347 000 0001;it\nBob;+39 347 000 0002;EN\n",
		"phone,lang\n3470000001,en\n\n3470000002\n",
		"name,cellulare\n\"Rossi, Mario\",\"347\n0000003\"\n",
		"phone\n", "", "nome;cognome\nA;B\n", "phone\n\"unterminated\n", "a,phone\nx\n",
	} {
		f.Add(seed)
	}
	codes := map[string]bool{"empty_file": true, "invalid_csv": true, "missing_phone_column": true}
	f.Fuzz(func(t *testing.T, file string) {
		var rep ImportReport
		rows, err := readImportFile(strings.NewReader(file), &rep)
		if err != nil {
			if re, ok := err.(*RequestError); !ok || !codes[re.Code] {
				t.Fatalf("refused with %v, not one of the import's codes", err)
			}
			return
		}
		if rep.Rows != len(rows)+rep.Invalid {
			t.Fatalf("%d rows read, %d kept and %d invalid", rep.Rows, len(rows), rep.Invalid)
		}
		if len(rep.Examples) > maxExamples {
			t.Fatalf("%d examples", len(rep.Examples))
		}
		for _, r := range rows {
			if r.lang != "it" && r.lang != "en" || r.line < 1 {
				t.Fatalf("row %+v", r)
			}
		}
	})
}
