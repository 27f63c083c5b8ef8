// Package appio is the App IO adapter: a comune's service (one subscription key each) asks
// whether a citizen's profile accepts it, sends messages to the citizen's app, and reads their
// state. It implements channels.AppIOClient for the alerts and channels.Sender for operator
// replies. Every request has a timeout; a 429 is waited out (Retry-After) and tried again,
// up to a bound, after which the refusal goes back to the caller as temporary.
package appio
