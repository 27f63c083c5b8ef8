package gateway

import "context"

// wireRouting connects the routing feature; filled in by its issue.
func (g *Gateway) wireRouting(ctx context.Context) error { return nil }
