package config

import (
	"fmt"
	"strings"
	"time"
)

// DefaultAppIOBaseURL is the public App IO API (io-guida-tecnica).
const DefaultAppIOBaseURL = "https://api.io.pagopa.it"

// AppIO configures the App IO API every comune's service reaches citizens through.
type AppIO struct {
	// BaseURL is the API's root; "" = DefaultAppIOBaseURL. Tests give an emulator's address.
	BaseURL string `yaml:"base_url"`
	// Timeout bounds one request to App IO.
	Timeout time.Duration `yaml:"timeout"`
	// MaxRetryAfter caps how long one call waits out a 429's Retry-After before it gives the
	// message back to its queue.
	MaxRetryAfter time.Duration `yaml:"max_retry_after"`
	// StatusEvery is how often messages App IO accepted are asked about (PROCESSED = delivered).
	StatusEvery time.Duration `yaml:"status_every"`
}

// ComuneAppIO is one comune's App IO service.
type ComuneAppIO struct {
	// APIKey is the service's subscription key (Ocp-Apim-Subscription-Key); "" = the comune
	// sends nothing through App IO.
	APIKey string `yaml:"api_key"`
}

// AppIOKeyEnv is the environment variable that overrides a comune's App IO key: the comune's id
// upper-cased, its dashes as underscores (SPORTELLO_APP_IO_KEY_SESTO_FIORENTINO).
func AppIOKeyEnv(comuneID string) string {
	return "SPORTELLO_APP_IO_KEY_" + strings.ToUpper(strings.ReplaceAll(comuneID, "-", "_"))
}

func (a *AppIO) setDefaults() {
	if a.BaseURL == "" {
		a.BaseURL = DefaultAppIOBaseURL
	}
	a.BaseURL = strings.TrimRight(a.BaseURL, "/")
	if a.Timeout == 0 {
		a.Timeout = 10 * time.Second
	}
	if a.MaxRetryAfter == 0 {
		a.MaxRetryAfter = 30 * time.Second
	}
	if a.StatusEvery == 0 {
		a.StatusEvery = 5 * time.Second
	}
}

// AppIOEnabled reports whether any comune has an App IO key.
func (c *Config) AppIOEnabled() bool {
	for _, cm := range c.Comuni {
		if cm.AppIO.APIKey != "" {
			return true
		}
	}
	return false
}

func (c *Config) applyAppIOEnv(getenv func(string) string) {
	for i := range c.Comuni {
		if v := getenv(AppIOKeyEnv(c.Comuni[i].ID)); v != "" {
			c.Comuni[i].AppIO.APIKey = v
		}
	}
}

func (c *Config) validateAppIO(bad func(string, string, ...any)) {
	a := c.AppIO
	if !strings.HasPrefix(a.BaseURL, "http://") && !strings.HasPrefix(a.BaseURL, "https://") {
		bad("app_io.base_url", "must be an http(s) URL or empty, got %q", a.BaseURL)
	}
	if a.Timeout < 100*time.Millisecond || a.Timeout > 2*time.Minute {
		bad("app_io.timeout", "must be between 100ms and 2m")
	}
	if a.MaxRetryAfter < 0 || a.MaxRetryAfter > 5*time.Minute {
		bad("app_io.max_retry_after", "must be between 0 and 5m")
	}
	if a.StatusEvery < 100*time.Millisecond {
		bad("app_io.status_every", "must be at least 100ms")
	}
	for i, cm := range c.Comuni {
		if k := cm.AppIO.APIKey; k != "" && strings.ContainsAny(k, " \t\r\n") {
			bad(fmt.Sprintf("comuni[%d].app_io.api_key", i), "must not contain spaces or line breaks")
		}
	}
}
