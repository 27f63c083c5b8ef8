package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sportello/sportello/store"
)

// TestBrowserAdminPages: the people, keys and account pages pass axe, and a Firenze supervisor
// creates an operator with the keyboard alone (Tab, typing, Space, Enter) and sees the password
// once.
func TestBrowserAdminPages(t *testing.T) {
	ctx := newBrowser(t)
	if ctx == nil {
		return
	}
	gw := startBrowserGateway(t)
	gw.user(t, "capo", store.RoleSupervisor, "firenze")
	gw.user(t, "anna", store.RoleOperator, "firenze")
	gw.user(t, "empolese", store.RoleOperator, "empoli")

	browserStep(t, ctx, "log in", chromedp.Navigate(gw.URL+"/login"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SetValue(chromedp.ID("username"), "capo"), chromedp.SetValue(chromedp.ID("password"), browserPassword),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("main")))
	browserStep(t, ctx, "open people", chromedp.Navigate(gw.URL+"/admin/users"), chromedp.WaitVisible(chromedp.ID("people")))
	list := browserEval[string](t, ctx, `document.getElementById("people").textContent`)
	if !strings.Contains(list, "anna") || strings.Contains(list, "empolese") {
		t.Errorf("the Firenze supervisor's people list: %q", list)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll('.mainnav a[href="/admin/users"][aria-current="page"]').length`); n != 1 {
		t.Errorf("the navigation marks the people page %d times", n)
	}
	browserCheckA11y(t, ctx, "people")
	browserScreenshot(t, ctx, "admin-people")

	// Keyboard only: Tab to the username, type, Tab to the next fields, Space on Firenze, Tab
	// to the button and Enter.
	tabTo := func(id string) {
		t.Helper()
		for i := 0; i < 80; i++ {
			if browserEval[string](t, ctx, `document.activeElement ? document.activeElement.id : ""`) == id {
				return
			}
			browserStep(t, ctx, "tab", chromedp.KeyEvent(kb.Tab))
		}
		t.Fatalf("Tab never reached #%s", id)
	}
	tabTo("u-username")
	browserStep(t, ctx, "type the username", chromedp.KeyEvent("luigi.verdi"))
	tabTo("u-name")
	browserStep(t, ctx, "type the name", chromedp.KeyEvent("Luigi Verdi"))
	browserStep(t, ctx, "to the role", chromedp.KeyEvent(kb.Tab))
	browserStep(t, ctx, "to Firenze", chromedp.KeyEvent(kb.Tab))
	if v := browserEval[string](t, ctx, `document.activeElement.name + "=" + document.activeElement.value`); v != "comuni=firenze" {
		t.Fatalf("after the role, the focus is on %q, want the Firenze checkbox", v)
	}
	browserStep(t, ctx, "check Firenze", chromedp.KeyEvent(" "))
	tabTo("u-create")
	browserStep(t, ctx, "create", chromedp.KeyEvent(kb.Enter))
	browserWait(t, ctx, "the password shown once", `document.getElementById("secret")`, 10*time.Second)
	pw := browserEval[string](t, ctx, `document.querySelector("#secret code").textContent`)
	if len(pw) < 16 {
		t.Errorf("shown password %q", pw)
	}
	browserCheckA11y(t, ctx, "password shown once")
	u, err := gw.G.Store.UserRecordOf(context.Background(), "luigi.verdi")
	if err != nil || u.Name != "Luigi Verdi" || len(u.Comuni) != 1 || u.Comuni[0] != "firenze" || u.Role != store.RoleOperator {
		t.Fatalf("the created user: %+v, %v", u, err)
	}

	// The person's page, the keys and the own account.
	browserStep(t, ctx, "open the person", chromedp.Navigate(gw.URL+"/admin/users/luigi.verdi"), chromedp.WaitVisible(chromedp.ID("u-save")))
	browserCheckA11y(t, ctx, "person")
	browserScreenshot(t, ctx, "admin-person")
	browserStep(t, ctx, "make a password link", chromedp.Click(chromedp.CSS("button#u-link")))
	browserWait(t, ctx, "the link shown once", `document.querySelector("#secret code") && document.querySelector("#secret code").textContent.includes("/password/set?token=")`, 10*time.Second)
	link := browserEval[string](t, ctx, `document.querySelector("#secret code").textContent`)
	browserStep(t, ctx, "open the link", chromedp.Navigate(gw.URL+link[strings.Index(link, "/password/set"):]), chromedp.WaitVisible(chromedp.ID("set-new")))
	browserCheckA11y(t, ctx, "set-password link")
	browserStep(t, ctx, "an Empoli person is not found", chromedp.Navigate(gw.URL+"/admin/users/empolese"), chromedp.WaitVisible(chromedp.ID("problem")))
	browserStep(t, ctx, "open keys", chromedp.Navigate(gw.URL+"/admin/keys"), chromedp.WaitVisible(chromedp.ID("k-create")),
		chromedp.SetValue(chromedp.ID("k-name"), "sito del comune"), chromedp.Click(chromedp.ID("k-create")))
	browserWait(t, ctx, "the key shown once", `document.querySelector("#secret code") && document.querySelector("#secret code").textContent.startsWith("spk_")`, 10*time.Second)
	browserStep(t, ctx, "back to keys", chromedp.Navigate(gw.URL+"/admin/keys"), chromedp.WaitVisible(chromedp.ID("keys")))
	browserCheckA11y(t, ctx, "keys")
	browserScreenshot(t, ctx, "admin-keys")
	browserStep(t, ctx, "open account", chromedp.Navigate(gw.URL+"/account"), chromedp.WaitVisible(chromedp.ID("tok-create")),
		chromedp.SetValue(chromedp.ID("tok-name"), "script notturno"), chromedp.Click(chromedp.ID("tok-create")))
	browserWait(t, ctx, "the token shown once", `document.querySelector("#secret code") && document.querySelector("#secret code").textContent.startsWith("spt_")`, 10*time.Second)
	browserStep(t, ctx, "back to account", chromedp.Navigate(gw.URL+"/account"), chromedp.WaitVisible(chromedp.ID("tokens")))
	browserCheckA11y(t, ctx, "account")
	browserScreenshot(t, ctx, "account")
}
