package adminpages

import (
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/admin"
	"github.com/sportello/sportello/web/auth"
	"github.com/sportello/sportello/web/pages"
)

// readUserForm reads the person form's fields.
func readUserForm(c echo.Context) (userForm, []string, []string, error) {
	f := userForm{Username: strings.TrimSpace(c.FormValue("username")), Name: c.FormValue("name"), Role: c.FormValue("role"),
		Capacity: strings.TrimSpace(c.FormValue("capacity")), Phone: c.FormValue("phone"), Comuni: map[string]bool{}, Categories: map[string]bool{}}
	comuni, err := formList(c, "comuni")
	if err != nil {
		return f, nil, nil, err
	}
	cats, err := formList(c, "categories")
	if err != nil {
		return f, nil, nil, err
	}
	for _, v := range comuni {
		f.Comuni[v] = true
	}
	for _, v := range cats {
		f.Categories[v] = true
	}
	return f, comuni, cats, nil
}

// capacity reads the capacity field ("" = the default); a non-number is the service's refusal.
func capacity(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &admin.Error{Kind: admin.Invalid, Code: "invalid_capacity", Message: "capacity " + strconv.Quote(s) + " is not a number"}
	}
	return n, nil
}

func (h *Handler) createUser(c echo.Context) error {
	f, comuni, cats, err := readUserForm(c)
	if err != nil {
		return err
	}
	n, err := capacity(f.Capacity)
	var shown string
	if err == nil {
		u := admin.NewUser{Username: f.Username, Name: f.Name, Role: f.Role, Comuni: comuni, Categories: cats,
			Capacity: n, Phone: f.Phone, Password: c.FormValue("password")}
		if c.FormValue("link") != "" {
			u.Password = ""
		}
		_, shown, err = h.o.Admin.CreateUser(c.Request().Context(), auth.User(c), u)
	}
	if err != nil {
		status, msg, err := refusal(c, err)
		if err != nil {
			return err
		}
		return h.renderUsers(c, status, f, msg)
	}
	l := textsFor(pages.Lang(c))
	if c.FormValue("link") != "" {
		// The made password is never shown: the person sets their own through the link.
		tok, err := h.o.Admin.PasswordLink(c.Request().Context(), auth.User(c), f.Username)
		if err != nil {
			return err
		}
		return h.showSecret(c, "users", "created_title", sprintf(l["link_once"], f.Username), h.linkURL(tok), "back_users", "/admin/users/"+f.Username)
	}
	if shown == "" {
		return pages.Redirect(c, "/admin/users/"+f.Username+"?created=1")
	}
	return h.showSecret(c, "users", "created_title", sprintf(l["password_once"], f.Username), shown, "back_users", "/admin/users/"+f.Username)
}
