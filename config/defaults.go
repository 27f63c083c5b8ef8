package config

// DefaultCategories are the seed centre's categories with Italian keyword rules.
func DefaultCategories() []Category {
	return []Category{
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

// DefaultQueues: one per main category, and a general default queue.
func DefaultQueues() []Queue {
	return []Queue{
		{ID: "traffico", Name: "Traffico e blocchi", Categories: []string{"blocco-traffico", "permessi-ztl"}, Priority: 2, SLAMinutes: 15},
		{ID: "multe", Name: "Contravvenzioni", Categories: []string{"contravvenzioni"}, Priority: 1, SLAMinutes: 30},
		{ID: "generale", Name: "Generale", Priority: 0, SLAMinutes: 60, Default: true},
	}
}

// DemoYAML is the built-in configuration used when no config file exists: the four comuni of the
// Linea Comune launch, SQLite under ./data, no Twilio credentials (outbound SMS go to the local outbox).
const DemoYAML = `
data_dir: ./data
timezone: Europe/Rome
http:
  listen: 127.0.0.1:8080
smtp:
  listen: 127.0.0.1:2525
  max_message_bytes: 10485760
email:
  from: "Linea Comune <noreply@055055.example>"
  relay: ""
business_hours:
  days: [mon, tue, wed, thu, fri, sat]
  open: "08:00"
  close: "20:00"
shared_numbers: ["+39055055"]
cti:
  token: demo-cti-token
twilio:
  # Only the webhook-signing token: without an account_sid, outbound SMS go to the local outbox.
  auth_token: demo-auth-token
comuni:
  - id: firenze
    name: Comune di Firenze
    patron: {day: "06-24", name: "San Giovanni Battista"}
    aliases: [firenze, fi]
    phone_numbers: ["+390552768000"]
    email_addresses: ["urp@comune.fi.it"]
    topics: [traffico, scuole, eventi]
    offices:
      - id: polizia-municipale
        name: Polizia Municipale
        email: pm@comune.fi.it
        phone: "+390553283333"
        categories: [contravvenzioni]
      - id: mobilita
        name: Direzione Mobilità
        email: mobilita@comune.fi.it
        phone: "+390552624000"
        categories: [blocco-traffico, permessi-ztl, incentivi-veicoli]
  - id: sesto-fiorentino
    name: Comune di Sesto Fiorentino
    patron: {day: "11-11", name: "San Martino"}
    aliases: [sesto fiorentino, sesto]
    phone_numbers: ["+39055449601"]
    email_addresses: ["urp@comune.sesto-fiorentino.fi.it"]
    topics: [traffico]
    offices:
      - id: polizia-municipale
        name: Polizia Municipale
        email: pm@comune.sesto-fiorentino.fi.it
        phone: "+390554496357"
        categories: [contravvenzioni]
  - id: bagno-a-ripoli
    name: Comune di Bagno a Ripoli
    patron: {day: "06-29", name: "Santi Pietro e Paolo"}
    aliases: [bagno a ripoli, bagno]
    phone_numbers: ["+39055600501"]
    email_addresses: ["urp@comune.bagno-a-ripoli.fi.it"]
    topics: [traffico]
    offices:
      - id: polizia-municipale
        name: Polizia Municipale
        email: pm@comune.bagno-a-ripoli.fi.it
        phone: "+390556390222"
        categories: [contravvenzioni]
  - id: empoli
    name: Comune di Empoli
    patron: {day: "11-30", name: "Sant'Andrea"}
    aliases: [empoli]
    phone_numbers: ["+39057175761"]
    email_addresses: ["urp@comune.empoli.fi.it"]
    topics: [traffico]
    offices:
      - id: polizia-municipale
        name: Polizia Municipale
        email: pm@comune.empoli.fi.it
        phone: "+39057175791"
        categories: [contravvenzioni]
`
