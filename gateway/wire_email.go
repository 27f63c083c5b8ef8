package gateway

import "context"

// wireEmail connects the email feature; filled in by its issue.
func (g *Gateway) wireEmail(ctx context.Context) error { return nil }
