package operatorapi

import (
	"errors"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/channels"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// getAttachment returns the exact stored bytes, or for media the provider keeps (MMS,
// recordings) the provider's bytes fetched by the gateway (see ProviderMedia: never a
// redirect). Citizen-supplied files are always downloads, never rendered by the browser in our
// origin.
func (a *API) getAttachment(c echo.Context) error {
	att, data, err := a.Store.Attachment(c.Request().Context(), c.Param("id"), c.Param("attachment_id"), auth.User(c).Scope())
	if errors.Is(err, store.ErrNotFound) {
		return httperr.NotFound("attachment")
	}
	if err != nil {
		return err
	}
	if data == nil {
		return a.proxyProviderMedia(c, att)
	}
	downloadHeaders(c, att, "")
	return c.Blob(http.StatusOK, c.Response().Header().Get(echo.HeaderContentType), data)
}

// proxyProviderMedia serves an attachment stored as a URL: only the provider's own https URLs
// are fetched; a URL of any other scheme or host (file:, javascript:, a stranger's site, as a
// forged webhook could store) is refused without a request.
func (a *API) proxyProviderMedia(c echo.Context, att channels.Attachment) error {
	if att.URL == "" {
		return httperr.NotFound("attachment content")
	}
	if a.Media == nil || !a.Media.Allowed(att.URL) {
		return httperr.New(http.StatusNotFound, "not_found", "attachment content not available: its URL is not the provider's")
	}
	media, err := a.Media.Fetch(c.Request().Context(), att.URL)
	if err != nil {
		return httperr.New(http.StatusBadGateway, "bad_gateway", "the provider did not give the attachment: %v", err)
	}
	defer media.Body.Close()
	downloadHeaders(c, att, media.ContentType)
	return c.Stream(http.StatusOK, c.Response().Header().Get(echo.HeaderContentType), media.Body)
}

// downloadHeaders make the browser save the file, never render or sniff it in our origin.
func downloadHeaders(c echo.Context, att channels.Attachment, fallbackType string) {
	ct := att.ContentType
	if ct == "" {
		ct = fallbackType
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	name := att.Filename
	if name == "" {
		name = "attachment"
	}
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
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
