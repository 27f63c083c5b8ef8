package operatorapi

import (
	"errors"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// getAttachment returns the exact stored bytes. Citizen-supplied files are always downloads,
// never rendered by the browser in our origin.
func (a *API) getAttachment(c echo.Context) error {
	att, data, err := a.Store.Attachment(c.Request().Context(), c.Param("id"), c.Param("attachment_id"), auth.User(c).Scope())
	if errors.Is(err, store.ErrNotFound) {
		return httperr.NotFound("attachment")
	}
	if err != nil {
		return err
	}
	if data == nil {
		if att.URL != "" {
			// Media kept by the provider (MMS, recordings): point at it.
			return c.Redirect(http.StatusFound, att.URL)
		}
		return httperr.NotFound("attachment content")
	}
	ct := att.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	name := att.Filename
	if name == "" {
		name = "attachment"
	}
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	return c.Blob(http.StatusOK, ct, data)
}

func (a *API) getAttachmentPreview(c echo.Context) error {
	png, err := a.Store.AttachmentPreview(c.Request().Context(), c.Param("id"), c.Param("attachment_id"), auth.User(c).Scope())
	if errors.Is(err, store.ErrNotFound) {
		return httperr.NotFound("preview")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, "image/png", png)
}
