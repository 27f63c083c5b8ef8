package a11ypage

// texts are the statement's words, by language, in the order of the AgID model declaration.
var texts = map[string]map[string]string{
	"it": {
		"title": "Dichiarazione di accessibilità",
		"intro": "Le amministrazioni che usano Sportello si impegnano a renderlo accessibile, conformemente alla legge 9 gennaio 2004, n. 4 " +
			"e al decreto legislativo 10 agosto 2018, n. 106, che recepisce la direttiva (UE) 2016/2102. " +
			"La dichiarazione riguarda tutte le pagine servite da Sportello, compresi gli strumenti degli operatori: accesso, contatti, " +
			"cittadini, code, avvisi SMS, statistiche, tabellone e amministrazione.",
		"status_h":      "Stato di conformità",
		"status":        "Sportello è parzialmente conforme ai requisiti della norma UNI CEI EN 301549 e alle WCAG 2.1 livello AA, per i contenuti elencati qui sotto.",
		"nonconf_h":     "Contenuti non accessibili",
		"nonconf_intro": "I contenuti seguenti non sono accessibili:",
		"nonconf_h3":    "Non conformità",
		"nc_recordings": "Le registrazioni delle chiamate non hanno una trascrizione (WCAG 1.2.1).",
		"third_h3":      "Contenuti di terzi",
		"third": "I messaggi e gli allegati inviati dai cittadini (testi, PDF, fax, immagini) sono mostrati come sono arrivati: Sportello non può renderli accessibili. " +
			"Le anteprime dei fax sono immagini il cui testo alternativo riporta solo il nome del file.",
		"method_h": "Redazione della dichiarazione",
		"method": "La dichiarazione è stata redatta il 30 novembre 2026 con un'autovalutazione. A ogni modifica del software ogni pagina è controllata " +
			"in un browser Chromium con axe-core 4.14.1 (regole WCAG 2.0 e 2.1, livelli A e AA), anche in una finestra larga 320 pixel dove la pagina non deve scorrere in orizzontale: nessuna violazione grave o critica è ammessa; " +
			"una prova automatica risponde a un contatto usando soltanto la tastiera. Non è ancora stata fatta una verifica manuale con lettori di schermo.",
		"feedback_h": "Meccanismo di feedback e recapiti",
		"feedback": "Per segnalare un problema di accessibilità, o per chiedere un contenuto in un formato accessibile, scrivete all'ente che usa Sportello. " +
			"Indicate l'indirizzo della pagina, che cosa non funziona e il browser o la tecnologia assistiva che usate. L'ente risponde entro 30 giorni.",
		"feedback_none": "Rivolgetevi al responsabile per la transizione al digitale dell'ente che usa Sportello.",
		"mail_subject":  "Accessibilità di Sportello: segnalazione",
		"enforce_h":     "Procedura di attuazione",
		"enforce": "Se la risposta non è soddisfacente, o se non arriva entro 30 giorni, potete inviare una segnalazione al Difensore civico per il digitale " +
			"presso l'Agenzia per l'Italia Digitale (AgID), come prevede l'articolo 3-quinquies, comma 3, della legge 4/2004:",
		"enforce_link": "modulo di segnalazione al Difensore civico per il digitale",
	},
	"en": {
		"title": "Accessibility statement",
		"intro": "The administrations that use Sportello are committed to making it accessible, in accordance with Italian Law no. 4 of 9 January 2004 " +
			"and Legislative Decree no. 106 of 10 August 2018, which transposes Directive (EU) 2016/2102. " +
			"This statement covers every page Sportello serves, the operators' tools included: sign-in, contacts, citizens, queues, " +
			"SMS alerts, reports, wallboard and administration.",
		"status_h":      "Compliance status",
		"status":        "Sportello is partially compliant with standard UNI CEI EN 301549 and with WCAG 2.1 level AA, because of the content listed below.",
		"nonconf_h":     "Non-accessible content",
		"nonconf_intro": "The following content is not accessible:",
		"nonconf_h3":    "Non-compliance",
		"nc_recordings": "Call recordings have no transcript (WCAG 1.2.1).",
		"third_h3":      "Third-party content",
		"third": "Messages and attachments sent by citizens (texts, PDFs, faxes, images) are shown as they arrived: Sportello cannot make them accessible. " +
			"Fax previews are images whose text alternative gives only the file name.",
		"method_h": "Preparation of this statement",
		"method": "This statement was prepared on 30 November 2026 by self-assessment. On every change of the software each page is checked " +
			"in a Chromium browser with axe-core 4.14.1 (WCAG 2.0 and 2.1 rules, levels A and AA), also in a window 320 pixels wide where the page must not scroll sideways: no serious or critical violation is allowed; " +
			"an automated test replies to a contact using the keyboard alone. No manual review with screen readers has been made yet.",
		"feedback_h": "Feedback and contact information",
		"feedback": "To report an accessibility problem, or to ask for content in an accessible format, write to the administration that uses Sportello. " +
			"Give the page's address, what does not work, and the browser or assistive technology you use. The administration answers within 30 days.",
		"feedback_none": "Contact the digital transition officer of the administration that uses Sportello.",
		"mail_subject":  "Sportello accessibility: a problem",
		"enforce_h":     "Enforcement procedure",
		"enforce": "If the answer is unsatisfactory, or none arrives within 30 days, you may report it to the Digital Ombudsman " +
			"(Difensore civico per il digitale) at the Agency for Digital Italy (AgID), under article 3-quinquies, paragraph 3, of Law 4/2004:",
		"enforce_link": "report form of the Digital Ombudsman",
	},
}

func textsFor(lang string) map[string]string {
	if t, ok := texts[lang]; ok {
		return t
	}
	return texts["it"]
}
