// Package metrics holds the Prometheus collectors of one gateway process, on a registry of its
// own (no global state), served at /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the gateway's collectors.
type Metrics struct {
	Registry        *prometheus.Registry
	Contacts        *prometheus.CounterVec   // by channel
	Duplicates      *prometheus.CounterVec   // by channel
	Webhook         *prometheus.HistogramVec // by route, code
	StoreErrors     *prometheus.CounterVec   // by operation
	HTTPRequests    *prometheus.CounterVec   // by route, code
	OutboundSent    *prometheus.CounterVec   // by channel, result
	SMTPMessages    *prometheus.CounterVec   // by result
	IMAPMessages    *prometheus.CounterVec   // by mailbox, result
	AlertsDelivered *prometheus.CounterVec   // by status
	AlertsStalled   prometheus.Gauge
}

// New registers every collector on a new registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Contacts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_contacts_total",
			Help: "Inbound messages and calls stored, by channel."}, []string{"channel"}),
		Duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_duplicates_total",
			Help: "Inbound deliveries folded into an already stored provider id, by channel."}, []string{"channel"}),
		Webhook: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sportello_webhook_duration_seconds",
			Help:    "Webhook latency from request to answer, by route and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route", "code"}),
		StoreErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_store_errors_total",
			Help: "Database operations that failed, by operation."}, []string{"op"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_http_requests_total",
			Help: "HTTP requests, by route and status code."}, []string{"route", "code"}),
		OutboundSent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_outbound_total",
			Help: "Outbound messages handed to a provider, by channel and result."}, []string{"channel", "result"}),
		SMTPMessages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_smtp_messages_total",
			Help: "Messages offered to the SMTP server, by result."}, []string{"result"}),
		IMAPMessages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_imap_messages_total",
			Help: "Messages fetched from IMAP mailboxes, by mailbox and result."}, []string{"mailbox", "result"}),
		AlertsDelivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_alert_messages_total",
			Help: "Alert SMS by delivery status."}, []string{"status"}),
		AlertsStalled: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sportello_alerts_stalled",
			Help: "Alerts sending without progress for alerts.stall_after (the same count on every replica)."}),
	}
	m.Registry.MustRegister(m.Contacts, m.Duplicates, m.Webhook, m.StoreErrors, m.HTTPRequests, m.OutboundSent,
		m.SMTPMessages, m.IMAPMessages, m.AlertsDelivered, m.AlertsStalled,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
