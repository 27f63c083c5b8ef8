package reportpages

// texts are the report pages' own words, by language (the shared ones come from web/pages).
var texts = map[string]map[string]string{
	"it": {
		"title": "Statistiche", "wallboard": "Tabellone", "from": "Dal", "to": "Al", "comune": "Comune", "all_comuni": "Tutti i comuni",
		"show": "Mostra", "csv": "Scarica i contatti (CSV)", "contacts": "Contatti", "total": "Totale",
		"per_day": "Contatti al giorno per canale", "categories": "Richieste per categoria", "outcomes": "Esiti",
		"calls": "Chiamate al giorno: risposte, abbandonate, altre", "service": "Livello di servizio al giorno e obiettivo",
		"day": "Giorno", "closed_day": "chiuso", "value": "Valore", "share": "Contatti", "category": "Categoria", "outcome": "Esito",
		"offered": "Offerte", "answered": "Risposte", "abandoned": "Abbandonate", "other_calls": "Altre",
		"service_level": "Livello di servizio", "target": "Obiettivo", "avg_wait": "Attesa media", "avg_talk": "Conversazione media",
		"within": "risposte entro", "seconds": "s", "uncategorized": "Senza categoria",
		"channel_phone": "Telefono", "channel_sms": "SMS", "channel_email": "Email", "channel_fax": "Fax",
		"outcome_first_level": "Risolto al primo livello", "outcome_transferred_phone": "Trasferito al telefono",
		"outcome_forwarded_email": "Inoltrato via email", "outcome_unresolved": "Non ancora risolto",
		"whatif": "Quanti operatori servono? (Erlang C)", "calls_per_hour": "Chiamate all'ora", "aht": "Durata media di gestione (s)",
		"target_seconds": "Risposta entro (s)", "target_level": "Quota da rispondere entro l'obiettivo (0–1)", "compute": "Calcola",
		"agents": "Operatori necessari", "erlangs": "Traffico (Erlang)", "predicted_level": "Livello di servizio previsto",
		"asa": "Attesa media prevista", "whatif_invalid": "Inserisci chiamate all'ora e durata positive e un obiettivo valido.",
		"waiting": "In attesa", "longest_wait": "Attesa più lunga", "queue": "Coda", "operators": "Operatori",
		"presence_available": "Disponibili", "presence_away": "In pausa", "presence_offline": "Non collegati",
		"today": "Oggi", "live": "Aggiornamento dal vivo", "pause": "Sospendi gli aggiornamenti", "resume": "Riprendi gli aggiornamenti", "paused": "Aggiornamenti sospesi", "first_response": "Prima risposta (mediana)",
	},
	"en": {
		"title": "Reports", "wallboard": "Wallboard", "from": "From", "to": "To", "comune": "Comune", "all_comuni": "All comuni",
		"show": "Show", "csv": "Download the contacts (CSV)", "contacts": "Contacts", "total": "Total",
		"per_day": "Contacts per day by channel", "categories": "Requests by category", "outcomes": "Outcomes",
		"calls": "Calls per day: answered, abandoned, other", "service": "Service level per day and target",
		"day": "Day", "closed_day": "closed", "value": "Value", "share": "Contacts", "category": "Category", "outcome": "Outcome",
		"offered": "Offered", "answered": "Answered", "abandoned": "Abandoned", "other_calls": "Other",
		"service_level": "Service level", "target": "Target", "avg_wait": "Average wait", "avg_talk": "Average talk",
		"within": "answered within", "seconds": "s", "uncategorized": "No category",
		"channel_phone": "Phone", "channel_sms": "SMS", "channel_email": "Email", "channel_fax": "Fax",
		"outcome_first_level": "Solved at first level", "outcome_transferred_phone": "Transferred by phone",
		"outcome_forwarded_email": "Forwarded by email", "outcome_unresolved": "Not resolved yet",
		"whatif": "How many operators? (Erlang C)", "calls_per_hour": "Calls per hour", "aht": "Average handle time (s)",
		"target_seconds": "Answer within (s)", "target_level": "Share to answer within the target (0–1)", "compute": "Compute",
		"agents": "Operators needed", "erlangs": "Traffic (erlangs)", "predicted_level": "Predicted service level",
		"asa": "Predicted average wait", "whatif_invalid": "Enter positive calls per hour and handle time, and a valid target.",
		"waiting": "Waiting", "longest_wait": "Longest wait", "queue": "Queue", "operators": "Operators",
		"presence_available": "Available", "presence_away": "Away", "presence_offline": "Offline",
		"today": "Today", "live": "Live updates", "pause": "Pause the updates", "resume": "Resume the updates", "paused": "Updates paused", "first_response": "First response (median)",
	},
}

// Texts are the report pages' own words in a language (a test holds Italian pages free of them in English).
func Texts(lang string) map[string]string { return textsFor(lang) }

func textsFor(lang string) map[string]string {
	if t, ok := texts[lang]; ok {
		return t
	}
	return texts["it"]
}
