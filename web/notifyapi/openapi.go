package notifyapi

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

// OpenAPI is the OpenAPI 3.1 document of all of /api/v1: the comuni's notification API and
// the operators' API. A test compares its paths and methods with the gateway's routes both
// ways, so neither can change without the other.
var OpenAPI = func() []byte {
	b, err := json.MarshalIndent(openAPIDocument(), "", "  ")
	if err != nil {
		panic(err) // a document of maps, strings and numbers always marshals
	}
	return b
}()

// openAPI serves the document; it is public.
func (a *API) openAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/json", OpenAPI)
}
