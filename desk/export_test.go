package desk

import "time"

// ShortenOfferTimeouts lets a test wait for a hanging provider in milliseconds: request stands
// for offerRequestTimeout, sweep for expirySweepBudget.
func (d *Desk) ShortenOfferTimeouts(request, sweep time.Duration) {
	d.offerTimeouts = offerTimeouts{request: request, sweep: sweep}
}
