package config

import "github.com/sportello/sportello/channels"

func normalizePhone(s string) (string, error) { return channels.NormalizePhone(s) }
