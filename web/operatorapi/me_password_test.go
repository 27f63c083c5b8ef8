package operatorapi

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sportello/sportello/admin"
)

// A password change refused for too many wrong current passwords tells the client when to
// come back, in whole seconds rounded up.
func TestPasswordChangeRefusalCarriesRetryAfter(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&admin.Error{Kind: admin.Busy, Code: "too_many_attempts", RetryAfter: 61500 * time.Millisecond}, "62"},
		{&admin.Error{Kind: admin.Invalid, Code: "wrong_password"}, ""},
	} {
		rec := httptest.NewRecorder()
		ctx := echo.New().NewContext(httptest.NewRequest("POST", "/api/v1/me/password", nil), rec)
		setRetryAfter(ctx, c.err)
		if got := rec.Header().Get("Retry-After"); got != c.want {
			t.Errorf("%v: Retry-After %q, want %q", c.err, got, c.want)
		}
	}
}
