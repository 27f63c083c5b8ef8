package router

import (
	"testing"

	"github.com/sportello/sportello/config"
)

// proposedCategories are config.DefaultCategories with the keyword lists this package's tests
// found wanting (see hardMessages). config/ belongs to another engineer: this is the proposal,
// tested here so it can be pasted into config/defaults.go as it is.
func proposedCategories() []config.Category {
	return []config.Category{
		{ID: "blocco-traffico", Name: "Blocco del traffico", Keywords: []string{
			"blocco", "blocchi", "traffico", "targhe alterne", "domenica ecologica", "domeniche ecologiche",
			"circolazione", "circolare", "euro 0", "euro 1", "euro 2", "euro 3", "euro 4", "euro 5", "euro 6",
			"pm10", "smog", "inquinamento", "antismog", "limitazion*", "divieto di circolazione",
			"chiusura strad*", "strada chiusa", "strade chiuse", "stop ai diesel", "fermo dei veicoli",
		}},
		{ID: "contravvenzioni", Name: "Contravvenzioni", Keywords: []string{
			"multa", "multe", "multato", "multata", "multati", "multate", "mlt", "verbale", "verbali",
			"contravv*", "sanzion*", "autovelox", "velox", "ricorso", "ricorsi", "infrazion*", "punti patente",
			"notifica verbale", "pagare la multa", "divieto di sosta", "sosta vietata", "rimozione", "rimoss*",
			"carro attrezzi", "giudice di pace", "prefetto",
		}},
		{ID: "permessi-ztl", Name: "Permessi ZTL", Keywords: []string{
			"ztl", "zona traffico limitato", "permesso*", "permessi", "contrassegno", "varco", "varchi",
			"accesso centro", "entrare in centro", "centro storico", "telecamer*", "transit*", "pass", "residenti",
		}},
		{ID: "incentivi-veicoli", Name: "Incentivi veicoli", Keywords: []string{
			"incentiv*", "contribut*", "rottamazion*", "ecobonus", "bonus bici", "bonus auto", "bonus mobilita",
			"bonus veicol*", "auto elettric*", "veicol* elettric*", "scooter elettric*", "auto ibrid*",
			"monopattin*", "metano", "gpl", "bici", "biciclett*",
		}},
		{ID: "reclami-suggerimenti", Name: "Reclami e suggerimenti", Keywords: []string{
			"reclam*", "lament*", "protest*", "suggeriment*", "disservizio", "disservizi", "vergogn*",
			"inaccettabile", "segnalazion*", "segnalar*", "segnalo", "proposta", "scortes*", "maleducat*",
			"buca", "buche", "degrado",
		}},
		{ID: "servizi-generici", Name: "Servizi generici", Keywords: []string{
			"anagrafe", "carta d'identita", "carta di identita", "carta identita elettronica", "cie", "spid",
			"certificat*", "cert", "residenza", "cambio di residenza", "stato civile", "permesso di soggiorno",
			"permesso di costruire", "orari*", "ufficio", "uffici", "tari", "rifiuti", "tribut*", "imu",
			"scuola", "mensa", "asilo", "appuntamento", "informazion*", "servizi", "sportello", "isee",
			"bonus affitto", "affitto",
		}},
		{ID: "altro", Name: "Altro"},
	}
}

// hardMessages are where the current defaults go wrong; the proposal gets them right.
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

func TestProposedCategories(t *testing.T) {
	proposed, err := NewClassifier(proposedCategories())
	if err != nil {
		t.Fatal(err)
	}
	current := defaultClassifier(t)
	for _, m := range citizenMessages {
		if got := proposed.Classify(m.text); got != m.want {
			t.Errorf("proposal: Classify(%q) = %q, want %q", m.text, got, m.want)
		}
	}
	misses := 0
	for _, m := range hardMessages {
		if got := proposed.Classify(m.text); got != m.want {
			t.Errorf("proposal: Classify(%q) = %q, want %q", m.text, got, m.want)
		}
		if current.Classify(m.text) != m.want {
			misses++
		}
	}
	t.Logf("config.DefaultCategories misses %d of %d hard messages", misses, len(hardMessages))
	// The ids stay those of the contract.
	for i, cat := range config.DefaultCategories() {
		if proposedCategories()[i].ID != cat.ID {
			t.Fatalf("category %d: %q, want %q", i, proposedCategories()[i].ID, cat.ID)
		}
	}
}
