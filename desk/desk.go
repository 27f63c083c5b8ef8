// Package desk is what an operator does to a contact — reply, assign, claim, resolve, merge
// citizens, change presence — shared by the JSON API and the web inbox so both behave alike.
package desk

import (
	"errors"

	"github.com/sportello/sportello/store"
)

// Options wire a Desk.
type Options struct {
	Store *store.Store
}

// Desk performs operator actions.
type Desk struct {
	o Options
}

// New validates the options.
func New(o Options) (*Desk, error) {
	if o.Store == nil {
		return nil, errors.New("desk: a store is required")
	}
	return &Desk{o: o}, nil
}
