package alerts

import (
	"fmt"
	"strings"
)

// The answers to SMS commands, in Italian and English. They are kept in GSM-7 (lower-case
// accented letters are GSM-7, capitals are not) and short, so each costs one segment where it can.

type replies struct {
	subscribed     string // comune, topics clause
	topicsClause   string
	confirmed      string // comuni
	nothingPending string
	stopped        string
	askComune      string // comuni list
	unknownTopic   string // topic, comune, topics
	noTraffic      string // comune
	traffic        string // comune, alerts
	askTrafficWho  string // comuni list
	help           string
}

var texts = map[string]replies{
	"it": {
		subscribed:     "Iscrizione confermata: riceverai gli avvisi SMS del %s%s. Per annullare scrivi STOP.",
		topicsClause:   " su: %s",
		confirmed:      "Grazie, iscrizione confermata agli avvisi SMS: %s. Per annullare scrivi STOP.",
		nothingPending: "",
		stopped:        "Non riceverai più avvisi SMS. Per iscriverti di nuovo scrivi ISCRIVI e il nome del comune.",
		askComune:      "Per iscriverti scrivi ISCRIVI e il nome del comune, per esempio ISCRIVI %s. Comuni: %s.",
		unknownTopic:   "Argomento sconosciuto: %s. Argomenti del %s: %s. Esempio: ISCRIVI %s %s",
		noTraffic:      "%s: nessun blocco del traffico in vigore.",
		traffic:        "%s, blocchi del traffico in vigore: %s",
		askTrafficWho:  "Per i blocchi del traffico scrivi BLOCCO e il nome del comune, per esempio BLOCCO %s. Comuni: %s.",
		help:           "Avvisi SMS dei comuni: ISCRIVI [comune] [argomento] per iscriverti, STOP per annullare, BLOCCO per i blocchi del traffico. Per altro scrivi pure: ti risponde un operatore.",
	},
	"en": {
		subscribed:     "Subscribed: you will get the SMS alerts of %s%s. To stop, text STOP.",
		topicsClause:   " about: %s",
		confirmed:      "Thank you, your subscription to SMS alerts is confirmed: %s. To stop, text STOP.",
		nothingPending: "",
		stopped:        "You will get no more SMS alerts. To subscribe again, text SUBSCRIBE and the name of the comune.",
		askComune:      "To subscribe, text SUBSCRIBE and the name of the comune, e.g. SUBSCRIBE %s. Comuni: %s.",
		unknownTopic:   "Unknown topic: %s. Topics of %s: %s. Example: SUBSCRIBE %s %s",
		noTraffic:      "%s: no traffic block in force.",
		traffic:        "%s, traffic blocks in force: %s",
		askTrafficWho:  "For traffic blocks text BLOCCO and the name of the comune, e.g. BLOCCO %s. Comuni: %s.",
		help:           "SMS alerts of the comuni: SUBSCRIBE [comune] [topic] to subscribe, STOP to unsubscribe, BLOCCO for traffic blocks. For anything else just write: an operator will answer.",
	},
}

func textsFor(lang string) replies {
	if t, ok := texts[lang]; ok {
		return t
	}
	return texts["it"]
}

// comuniList names the comuni for a reply ("Firenze, Empoli").
func (s *Service) comuniList() string {
	names := make([]string, len(s.order))
	for i, id := range s.order {
		names[i] = s.comuni[id].shortName
	}
	return strings.Join(names, ", ")
}

func (s *Service) exampleComune() string {
	if len(s.order) == 0 {
		return "FIRENZE"
	}
	return strings.ToUpper(s.comuni[s.order[0]].shortName)
}

// maxTrafficReply bounds the BLOCCO answer (Twilio carries 1600 characters).
const maxTrafficReply = 1000

func (s *Service) trafficReply(lang, comune string, alerts []string) string {
	t := textsFor(lang)
	name := s.comuni[comune].cfg.Name
	if len(alerts) == 0 {
		return fmt.Sprintf(t.noTraffic, name)
	}
	var b strings.Builder
	for i, a := range alerts {
		item := a
		if len(alerts) > 1 {
			item = fmt.Sprintf("%d) %s", i+1, a)
		}
		if b.Len() > 0 {
			if b.Len()+len(item)+1 > maxTrafficReply {
				break
			}
			b.WriteByte(' ')
		}
		b.WriteString(item)
	}
	return fmt.Sprintf(t.traffic, name, b.String())
}
