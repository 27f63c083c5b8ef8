package gateway

import "context"

// wireAlerts connects the alerts feature; filled in by its issue.
func (g *Gateway) wireAlerts(ctx context.Context) error { return nil }
