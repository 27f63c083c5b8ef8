package operatorapi

import (
	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/web/auth"
)

type fiscalCodeRequest struct {
	FiscalCode string `json:"fiscal_code"`
}

// addFiscalCode gives the citizen a codice fiscale (check character verified; audited) and
// answers with the citizen.
func (a *Actions) addFiscalCode(c echo.Context) error {
	var req fiscalCodeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if _, err := a.Desk.AddFiscalCode(c.Request().Context(), auth.User(c), c.Param("id"), req.FiscalCode); err != nil {
		return deskError(err)
	}
	return a.getCitizen(c)
}
