package main

import (
	"context"
	"errors"
)

// The notification API's commands; implemented with the alerts feature.

func runAPIKeyCreate(ctx context.Context, e *env, args []string) error {
	return errors.New("apikey create: not available in this build yet")
}

func runSubscribersImport(ctx context.Context, e *env, args []string) error {
	return errors.New("subscribers import: not available in this build yet")
}
