package twilio

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// DeleteRecording deletes a call recording at Twilio (a citizen's erasure): Twilio answers 204,
// and 404 for a recording already gone, which is what was wanted too.
func (c *Calls) DeleteRecording(ctx context.Context, recordingSid string) error {
	if !recordingSidPattern.MatchString(recordingSid) {
		return fmt.Errorf("twilio: %q is not a recording sid", recordingSid)
	}
	base := "https://api.twilio.com"
	if c.rest.apiBase != nil {
		base = strings.TrimRight(c.rest.apiBase.String(), "/")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, base+"/2010-04-01/Accounts/"+c.o.AccountSID+"/Recordings/"+recordingSid+".json", nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.o.AccountSID, c.o.AuthToken)
	resp, err := (&http.Client{Transport: c.rest.transport, Timeout: c.o.Timeout}).Do(req)
	if err != nil {
		return fmt.Errorf("twilio: deleting recording %s: %w", recordingSid, err)
	}
	if err := resp.Body.Close(); err != nil {
		return fmt.Errorf("twilio: deleting recording %s: %w", recordingSid, err)
	}
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK, http.StatusNotFound:
		return nil
	}
	return fmt.Errorf("twilio: deleting recording %s: HTTP %d", recordingSid, resp.StatusCode)
}
