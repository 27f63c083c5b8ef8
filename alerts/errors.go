package alerts

import (
	"fmt"
	"math"
	"time"
)

// ErrorKind says which HTTP status a RequestError deserves.
type ErrorKind int

const (
	Invalid  ErrorKind = iota // 400: the request is wrong
	NotFound                  // 404: no such thing for this comune
	Conflict                  // 409: the state forbids it
	TooMany                   // 429: the caller's rate limit is spent; RetryAfter says when to retry
)

// RequestError is a precise, user-facing refusal with a stable code. Nothing was changed.
type RequestError struct {
	Kind    ErrorKind
	Code    string
	Message string
	// RetryAfter is set for TooMany.
	RetryAfter time.Duration
}

func (e *RequestError) Error() string { return e.Code + ": " + e.Message }

func invalid(code, format string, args ...any) *RequestError {
	return &RequestError{Kind: Invalid, Code: code, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *RequestError {
	return &RequestError{Kind: NotFound, Code: "not_found", Message: fmt.Sprintf(format, args...)}
}

// retrySeconds rounds a wait up to whole seconds, at least 1, for Retry-After.
func retrySeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }
