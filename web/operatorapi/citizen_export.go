package operatorapi

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// CitizenExportInfo is citizen.json of an export.
type CitizenExportInfo struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Comune     *string             `json:"comune"`
	Identities []channels.Identity `json:"identities"`
	ExportedAt time.Time           `json:"exported_at"`
	ExportedBy string              `json:"exported_by"`
}

// ConsentsExport is consents.json of an export.
type ConsentsExport struct {
	Subscriptions []store.SubscriptionRecord `json:"subscriptions"`
	Consents      []store.ConsentRecord      `json:"consents"`
	OptOuts       []store.OptOutRecord       `json:"opt_outs"`
}

// exportCitizen answers a ZIP of everything kept about a citizen (GDPR art. 15 and 20):
// citizen.json, contacts.json (every contact with its whole thread), consents.json and
// attachments/ID_FILENAME with the original bytes (admins; an admin scoped to comuni gets the
// contacts of theirs). The export is audited.
func (a *Actions) exportCitizen(c echo.Context) error {
	ctx := c.Request().Context()
	u := auth.User(c)
	d, err := a.Store.ExportCitizen(ctx, c.Param("id"), u.Scope())
	if errors.Is(err, store.ErrNotFound) {
		return httperr.NotFound("citizen")
	}
	if err != nil {
		return err
	}
	if err := a.Store.AuditExport(ctx, u.Username, d.Citizen.ID, len(d.Contacts)); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="cittadino-`+safeName(d.Citizen.ID)+`.zip"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	zw := zip.NewWriter(c.Response())
	info := CitizenExportInfo{ID: d.Citizen.ID, Name: d.Citizen.Name, Comune: d.Citizen.Comune, Identities: d.Citizen.Identities,
		ExportedAt: a.Store.Now().UTC(), ExportedBy: u.Username}
	for _, f := range []struct {
		name string
		v    any
	}{{"citizen.json", info}, {"contacts.json", d.Contacts}, {"consents.json", ConsentsExport{d.Subscriptions, d.Consents, d.OptOuts}}} {
		w, err := zw.Create(f.name)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(f.v); err != nil {
			return err
		}
	}
	for _, ct := range d.Contacts {
		for _, m := range ct.Messages {
			for _, at := range m.Attachments {
				data, err := a.Store.AttachmentBytes(ctx, at)
				if err != nil {
					return err
				}
				if data == nil {
					continue // kept by the provider (its URL is in contacts.json) or erased
				}
				w, err := zw.Create("attachments/" + safeName(at.ID) + "_" + safeName(at.Filename))
				if err != nil {
					return err
				}
				if _, err := w.Write(data); err != nil {
					return err
				}
			}
		}
	}
	return zw.Close()
}

// safeName keeps a file name to letters, digits, dot, dash and underscore: a citizen's file
// name must not climb out of attachments/ when the archive is unpacked.
func safeName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		return "file"
	}
	return out
}
