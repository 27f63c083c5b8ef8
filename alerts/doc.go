// Package alerts is the comuni's SMS notification service: subscriptions by SMS keyword, API or
// import, each with a consent record; alerts written as JSON or CAP 1.2, rendered through the
// comune's templates and costed in SMS segments; and a durable fan-out that hands every
// recipient to the SMS provider exactly once, paced across replicas, across crashes.
//
// The pieces, one job per file: keywords.go reads SMS commands, sms.go acts on them (a
// twilio.KeywordHandler), gsm7.go counts segments and rewrites text to GSM-7, compose.go turns a
// request into an alert, service.go is the API the web layer calls, fanout.go is the River
// worker that sends a batch, pacer.go spreads sends over the deployment-wide rate, sweeper.go
// starts scheduled alerts, expires old ones and settles what a crash left behind, lookup.go asks
// the provider whether an interrupted send got through, delivery.go applies status callbacks,
// importer.go reads subscriber CSV files. CAP parsing lives in alerts/cap.
package alerts
