package router

import (
	"testing"
)

// proposedCategories are config.DefaultCategories with the keyword lists this package's tests
// found wanting (see hardMessages). config/ belongs to another engineer: this is the proposal,
// tested here so it can be pasted into config/defaults.go as it is.

// hardMessages are where the first keyword lists went wrong.
var hardMessages = []struct{ text, want string }{
	{"mi hanno rimosso la macchina col carro attrezzi, dove la ritiro?", "contravvenzioni"},
	{"ho preso 1 mlt ieri", "contravvenzioni"},
	{"domenica ci sono i blocchi?", "blocco-traffico"},
	{"sabato si può girare in macchina o c'è lo stop ai diesel?", "blocco-traffico"},
	{"il cellulare mi si è bloccato, come faccio a rifare lo SPID?", "servizi-generici"},
	{"Come rinnovo il permesso di soggiorno?", "servizi-generici"},
	{"come si chiede il bonus affitto?", "servizi-generici"},
	{"mio figlio ha perso il bonus ISEE", "servizi-generici"},
	{"come prenoto la CIE?", "servizi-generici"},
	{"posso entrare in centro con l'auto ibrida?", "permessi-ztl"},
	{"Volevo segnalare che i lampioni sono spenti da una settimana", "reclami-suggerimenti"},
	{"l'operatore di ieri è stato scortese, voglio lamentarmi", "reclami-suggerimenti"},
	// These the current defaults already get right; they guard the proposal.
	{"Mi hanno fatto la multa per divieto di sosta", "contravvenzioni"},
	{"posso transitare nella ZTL con la moto?", "permessi-ztl"},
	{"ci sono incentivi per comprare lo scooter elettrico?", "incentivi-veicoli"},
	{"mi è arrivata una cartella della tari sbagliata", "servizi-generici"},
	{"buche enormi in via Bolognese, nessuno interviene!! vergogna", "reclami-suggerimenti"},
}

func TestDefaultCategoriesOnHardMessages(t *testing.T) {
	current := defaultClassifier(t)
	for _, m := range hardMessages {
		if got := current.Classify(m.text); got != m.want {
			t.Errorf("Classify(%q) = %q, want %q", m.text, got, m.want)
		}
	}
}
