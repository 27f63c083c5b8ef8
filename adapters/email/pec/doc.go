// Package pec reads Italian certified email (posta elettronica certificata, DPR 68/2005 and
// its technical rules, DM 2 November 2005): the provider's envelope around a citizen's message
// (X-Trasporto: posta-certificata), the receipts of acceptance and delivery (X-Ricevuta), and
// anomaly envelopes (X-Trasporto: errore). It finds the original message (postacert.eml),
// reads the certification data (daticert.xml) and checks the provider's S/MIME signature
// (smime.p7s) against configured roots.
//
// It imports nothing of Sportello: the email adapter turns what it returns into contacts and
// delivery updates. danzipie/go-pec was considered and not used: it shells out to openssl
// without checking the chain, prints to stdout, drops errors, reads only the daticert and
// classifies "non-accettazione" as "accettazione" (a substring match).
package pec
