package inbox

import (
	"strings"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/web/pages"
)

// option is one choice of a filter or form select.
type option struct {
	ID   string
	Name string
}

// names turns the config's ids into the names operators read.
type names struct {
	comuni     map[string]string
	categories map[string]string
	queues     map[string]string
	comuneList []option
	catList    []option
	queueList  []option
}

func newNames(cfg *config.Config) names {
	n := names{comuni: map[string]string{}, categories: map[string]string{}, queues: map[string]string{}}
	for _, c := range cfg.Comuni {
		n.comuni[c.ID] = c.Name
		n.comuneList = append(n.comuneList, option{c.ID, c.Name})
	}
	for _, c := range cfg.Categories {
		name := c.Name
		if name == "" {
			name = c.ID
		}
		n.categories[c.ID] = name
		n.catList = append(n.catList, option{c.ID, name})
	}
	for _, q := range cfg.Queues {
		name := q.Name
		if name == "" {
			name = q.ID
		}
		n.queues[q.ID] = name
		n.queueList = append(n.queueList, option{q.ID, name})
	}
	return n
}

func lookup(m map[string]string, id *string) string {
	if id == nil || *id == "" {
		return ""
	}
	if s, ok := m[*id]; ok {
		return s
	}
	return *id
}

// row is a contact as a line of the list, names resolved (also sent as JSON to live pages).
type row struct {
	ID         string `json:"id"`
	URL        string `json:"url"`
	Channel    string `json:"channel"`
	Received   string `json:"received"`
	ReceivedAt string `json:"received_at"`
	Who        string `json:"who"`
	From       string `json:"from"`
	Summary    string `json:"summary"`
	Comune     string `json:"comune"`
	ComuneID   string `json:"comune_id"`
	Category   string `json:"category"`
	CategoryID string `json:"category_id"`
	Queue      string `json:"queue"`
	QueueID    string `json:"queue_id"`
	Status     string `json:"status"`
	Assignee   string `json:"assignee"`
	Escalated  bool   `json:"escalated"`
	// PECAnomaly and DeliveryOverdue flag a PEC the provider could not certify and a reply
	// still without its delivery receipt.
	PECAnomaly      bool `json:"pec_anomaly"`
	DeliveryOverdue bool `json:"delivery_overdue"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// who is how the list names the sender: their name when known, else their address.
func who(c channels.Contact) string {
	if c.FromName != "" {
		return pages.PlainName(c.FromName)
	}
	if c.Citizen != nil && c.Citizen.Name != "" {
		return pages.PlainName(c.Citizen.Name)
	}
	return pages.NationalPhone(pages.PlainName(c.From))
}

// snippet shortens a text for a list cell on one line; html/template still escapes it.
func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
