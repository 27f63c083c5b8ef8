package twilio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

func TestAfterAnswerRunsOnceAndOnlyAfterTwiML(t *testing.T) {
	e := echo.New()
	run := func(status int, writes int) int32 {
		t.Helper()
		c := e.NewContext(httptest.NewRequest(http.MethodPost, "/webhooks/twilio/voice/leg", nil), httptest.NewRecorder())
		var calls atomic.Int32
		done := make(chan struct{}, 4)
		(&Webhooks{}).afterAnswer(c, func(context.Context) { calls.Add(1); done <- struct{}{} })
		c.Response().WriteHeader(status)
		for range writes {
			if _, err := c.Response().Write([]byte("<Response/>")); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-done:
		case <-time.After(200 * time.Millisecond):
		}
		time.Sleep(20 * time.Millisecond) // a second, wrong run would land by now
		return calls.Load()
	}
	if n := run(http.StatusOK, 2); n != 1 {
		t.Errorf("after a TwiML answer written in two pieces the work ran %d times, want 1", n)
	}
	if n := run(http.StatusInternalServerError, 1); n != 0 {
		t.Errorf("after a 500 the work ran %d times, want 0", n)
	}
}
