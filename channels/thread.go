package channels

import "strings"

// ThirdParties picks out of a thread our mail to anyone but the citizen (a forward to an
// office, a later mail to it): the addresses it went to (trimmed, lower case) and its
// Message-IDs. Those ids are what let an office's answer join the thread (the store's
// threading), so they must reach that office alone: replies to the citizen and the citizen's
// data export leave them out.
func ThirdParties(msgs []Message, isCitizen func(addr string) bool) (addresses, messageIDs map[string]bool) {
	addresses, messageIDs = map[string]bool{}, map[string]bool{}
	for _, m := range msgs {
		to := strings.ToLower(strings.TrimSpace(m.To))
		if m.Direction != Outbound || isCitizen(to) {
			continue
		}
		addresses[to] = true
		if m.MessageID != "" {
			messageIDs[m.MessageID] = true
		}
	}
	return addresses, messageIDs
}
