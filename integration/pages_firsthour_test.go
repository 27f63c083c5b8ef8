package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
)

// TestPagesShowNumbersAsItaliansWriteThem: the inbox, the contact and the citizen show
// "347 123 4567", with the E.164 form on hover and in a tel: link.
func TestPagesShowNumbersAsItaliansWriteThem(t *testing.T) {
	gw := harness.Start(t, harness.Options{})
	admin := gw.User(t, "api", store.RoleAdmin)
	inboundSMS(t, gw, "+393471234567", firenzeNumber, "Buongiorno, domani c'è il blocco del traffico?")
	ct := newestContact(t, gw, admin, "+393471234567")
	bg := &browserGateway{G: gw.G, URL: gw.URL}
	bg.user(t, "capo", store.RoleAdmin)
	c := pageClient(t)
	pageLogin(t, c, gw.URL, "capo")

	status, page, _ := pageGet(t, c, gw.URL+"/inbox")
	if status != http.StatusOK || !strings.Contains(page, "347 123 4567") || strings.Contains(page, ">+393471234567<") {
		t.Fatalf("the inbox (%d) does not show the number as written in Italy", status)
	}
	status, page, _ = pageGet(t, c, gw.URL+"/inbox/contacts/"+ct.ID)
	for _, want := range []string{`href="tel:+393471234567" title="+393471234567">347 123 4567</a>`, `>055 276 8000</a>`} {
		if status != http.StatusOK || !strings.Contains(page, want) {
			t.Fatalf("the contact page (%d) lacks %s", status, want)
		}
	}
	status, page, _ = pageGet(t, c, gw.URL+"/inbox/citizens/"+ct.Citizen.ID)
	if status != http.StatusOK || !strings.Contains(page, `href="tel:+393471234567"`) {
		t.Fatalf("the citizen page (%d) does not link the number", status)
	}
}
