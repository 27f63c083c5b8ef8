package pec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// maxDatiCertBytes bounds the certification data read: the real ones are about 1 KB.
const maxDatiCertBytes = 256 << 10

// The tipo of a daticert.xml (and the X-Ricevuta values of receipts).
const (
	TipoAccettazione     = "accettazione"
	TipoNonAccettazione  = "non-accettazione"
	TipoPresaInCarico    = "presa-in-carico"
	TipoAvvenutaConsegna = "avvenuta-consegna"
	TipoPostaCertificata = "posta-certificata"
	TipoErroreConsegna   = "errore-consegna"
	TipoPreavvisoErrore  = "preavviso-errore-consegna"
	TipoRilevazioneVirus = "rilevazione-virus"
)

var tipi = map[string]bool{TipoAccettazione: true, TipoNonAccettazione: true, TipoPresaInCarico: true,
	TipoAvvenutaConsegna: true, TipoPostaCertificata: true, TipoErroreConsegna: true, TipoPreavvisoErrore: true,
	TipoRilevazioneVirus: true}

// ReceiptTypes are the X-Ricevuta values of the standard, in the order a message meets them.
var ReceiptTypes = []string{TipoAccettazione, TipoNonAccettazione, TipoPresaInCarico, TipoAvvenutaConsegna,
	TipoErroreConsegna, TipoPreavvisoErrore, TipoRilevazioneVirus}

// IsReceiptType reports whether t is one of ReceiptTypes.
func IsReceiptType(t string) bool { return tipi[t] && t != TipoPostaCertificata }

// Recipient is one destinatari entry: tipo is certificato (a PEC box) or esterno.
type Recipient struct {
	Tipo    string
	Address string
}

// DatiCert is the certification data a provider attaches to every envelope and receipt.
type DatiCert struct {
	// Tipo is what the document certifies (posta-certificata, accettazione, ...); Errore is
	// nessuno, or no-dominio, no-dest, virus, altro.
	Tipo   string
	Errore string
	// The original message's header as the provider saw it.
	Mittente    string
	Destinatari []Recipient
	Risposte    string
	Oggetto     string
	// The provider that wrote the document, when, and its id of the transport.
	GestoreEmittente string
	Data             time.Time
	Identificativo   string
	// MsgID is the original message's Message-ID, without angle brackets.
	MsgID string
	// Ricevuta is the kind of delivery receipt asked for: completa, breve, sintetica.
	Ricevuta     string
	Consegna     string
	ErroreEsteso string
}

type xmlDatiCert struct {
	XMLName      xml.Name `xml:"postacert"`
	Tipo         string   `xml:"tipo,attr"`
	Errore       string   `xml:"errore,attr"`
	Intestazione struct {
		Mittente    string `xml:"mittente"`
		Destinatari []struct {
			Tipo    string `xml:"tipo,attr"`
			Address string `xml:",chardata"`
		} `xml:"destinatari"`
		Risposte string `xml:"risposte"`
		Oggetto  string `xml:"oggetto"`
	} `xml:"intestazione"`
	Dati struct {
		Gestore string `xml:"gestore-emittente"`
		Data    struct {
			Zona   string `xml:"zona,attr"`
			Giorno string `xml:"giorno"`
			Ora    string `xml:"ora"`
		} `xml:"data"`
		Identificativo string `xml:"identificativo"`
		MsgID          string `xml:"msgid"`
		Ricevuta       struct {
			Tipo string `xml:"tipo,attr"`
		} `xml:"ricevuta"`
		Consegna     string `xml:"consegna"`
		ErroreEsteso string `xml:"errore-esteso"`
	} `xml:"dati"`
}

// DatiCertError is a daticert.xml that could not be read.
type DatiCertError struct {
	Reason string
}

func (e *DatiCertError) Error() string { return "pec: daticert.xml: " + e.Reason }

// ParseDatiCert reads a daticert.xml. It fails on anything that is not one (not XML, another
// root element, an unknown tipo, no identificativo); a date it cannot read is left zero.
func ParseDatiCert(data []byte) (DatiCert, error) {
	if len(data) > maxDatiCertBytes {
		return DatiCert{}, &DatiCertError{Reason: fmt.Sprintf("%d bytes, over the limit of %d", len(data), maxDatiCertBytes)}
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charsetReader
	var x xmlDatiCert
	if err := dec.Decode(&x); err != nil {
		return DatiCert{}, &DatiCertError{Reason: err.Error()}
	}
	d := DatiCert{
		Tipo: clean(x.Tipo), Errore: clean(x.Errore),
		Mittente: clean(x.Intestazione.Mittente), Risposte: clean(x.Intestazione.Risposte), Oggetto: clean(x.Intestazione.Oggetto),
		GestoreEmittente: clean(x.Dati.Gestore), Identificativo: clean(x.Dati.Identificativo),
		MsgID: strings.Trim(clean(x.Dati.MsgID), "<> "), Ricevuta: clean(x.Dati.Ricevuta.Tipo),
		Consegna: clean(x.Dati.Consegna), ErroreEsteso: clean(x.Dati.ErroreEsteso),
	}
	for _, r := range x.Intestazione.Destinatari {
		d.Destinatari = append(d.Destinatari, Recipient{Tipo: clean(r.Tipo), Address: clean(r.Address)})
	}
	if !tipi[d.Tipo] {
		return DatiCert{}, &DatiCertError{Reason: fmt.Sprintf("unknown tipo %q", d.Tipo)}
	}
	if d.Identificativo == "" {
		return DatiCert{}, &DatiCertError{Reason: "no identificativo"}
	}
	d.Data = parseData(x.Dati.Data.Giorno, x.Dati.Data.Ora, x.Dati.Data.Zona)
	return d, nil
}

// parseData reads the document's date: giorno dd/mm/yyyy, ora hh:mm:ss, zona +hhmm.
func parseData(giorno, ora, zona string) time.Time {
	giorno, ora, zona = clean(giorno), clean(ora), clean(zona)
	if zona == "" {
		zona = "+0000"
	}
	t, err := time.Parse("02/01/2006 15:04:05 -0700", giorno+" "+ora+" "+zona)
	if err != nil {
		return time.Time{}
	}
	return t
}

// clean trims and folds the whitespace of an element's text, and drops control characters.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// charsetReader lets the XML decoder read the Latin charsets some providers declare.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1":
		return charmap.ISO8859_1.NewDecoder().Reader(r), nil
	case "iso-8859-15", "latin9":
		return charmap.ISO8859_15.NewDecoder().Reader(r), nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252.NewDecoder().Reader(r), nil
	case "us-ascii", "ascii":
		return r, nil
	}
	return nil, errors.New("unsupported charset " + label)
}
