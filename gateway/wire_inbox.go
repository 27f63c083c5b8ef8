package gateway

import "context"

// wireInbox connects the inbox feature; filled in by its issue.
func (g *Gateway) wireInbox(ctx context.Context) error { return nil }
