package reportapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/httperr"
	"github.com/sportello/sportello/reports"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/alertstore"
	"github.com/sportello/sportello/store/storetest"
	"github.com/sportello/sportello/web/reportapi"
)

// A comune key reading its summary is rate limited like the rest of the notification API, from
// the key's own database bucket: the requests its notification API calls made count too.
func TestKeySummaryIsRateLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		cfg, err := config.Load("")
		if err != nil {
			t.Fatal(err)
		}
		svc, err := reports.New(reports.Options{Store: st, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		comune := cfg.Comuni[0].ID
		as := alertstore.New(st)
		k, token, err := as.CreateAPIKey(t.Context(), comune, "dashboard")
		if err != nil {
			t.Fatal(err)
		}
		e := echo.New()
		e.HTTPErrorHandler = func(err error, c echo.Context) { _ = httperr.Write(c, err) }
		(&reportapi.API{Reports: svc, Store: st, KeyRequestsPerMinute: 3}).Register(e)
		get := func() *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/reports/summary?from=2025-01-01&to=2025-01-31", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			return rec
		}
		// One request spent through the notification API's bucket for the same key.
		if err := as.TakeRate(t.Context(), alertstore.KeyBucket(k.ID), 1, alertstore.Rate{Limit: 3, Per: 60e9}); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if rec := get(); rec.Code != http.StatusOK {
				t.Fatalf("request %d: %d %s", i+1, rec.Code, rec.Body)
			}
		}
		rec := get()
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "rate_limited") {
			t.Fatalf("over the limit: %d (Retry-After %q) %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	})
}
