package email

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/adapters/email/pec"
	"github.com/sportello/sportello/channels"
)

// EnvelopeFilename is the attachment that keeps a PEC envelope byte for byte, as evidence.
const EnvelopeFilename = "envelope.eml"

// receiptDelivery is the delivery state each PEC receipt sets; the warnings set none.
var receiptDelivery = map[string]string{
	pec.TipoAccettazione:     channels.DeliveryAccepted,
	pec.TipoPresaInCarico:    channels.DeliveryAccepted,
	pec.TipoAvvenutaConsegna: channels.DeliveryDelivered,
	pec.TipoNonAccettazione:  channels.DeliveryFailed,
	pec.TipoErroreConsegna:   channels.DeliveryFailed,
	pec.TipoRilevazioneVirus: channels.DeliveryFailed,
	pec.TipoPreavvisoErrore:  "",
}

// pecResult is what one message of a PEC box is: a contact (in) or a receipt.
type pecResult struct {
	in      channels.InboundMessage
	receipt *channels.DeliveryReceipt
	// distrust says why the receipt sets no delivery state ("" when the provider vouches for it).
	distrust string
}

// readPEC reads a message of a PEC box. Ordinary mail comes back as pec.ErrNotPEC. An
// envelope or anomaly becomes a pec contact made from the sender's own message
// (postacert.eml), with the certification and the whole envelope attached; a receipt becomes
// a delivery update. Nothing here refuses a certified message for its form: what did not read
// becomes a note.
func readPEC(parse ParseFunc, raw []byte, roots *x509.CertPool, arrived time.Time) (pecResult, error) {
	m, err := pec.Parse(raw, pec.Options{Roots: roots})
	if err != nil {
		return pecResult{}, err
	}
	if arrived.IsZero() {
		arrived = time.Now()
	}
	if m.Kind == pec.KindReceipt {
		r, distrust := pecReceipt(m, raw, arrived)
		return pecResult{receipt: r, distrust: distrust}, nil
	}
	sum := sha256.Sum256(raw)
	info := &channels.PECInfo{EnvelopeSHA256: hex.EncodeToString(sum[:]), Signature: string(m.Signature.Status),
		SignatureDetail: m.Signature.Detail, Signer: m.Signature.Signer, Anomaly: m.Kind == pec.KindAnomaly}
	var notes []string
	var in channels.InboundMessage
	if m.Original != nil {
		in, err = messageFromRaw(parse, m.Original, "", arrived)
	}
	fromEnvelope := m.Original == nil || err != nil
	if fromEnvelope {
		// Without the sender's message the envelope itself is what there is to read; its From
		// is the provider ("Per conto di: ..."), so the sender comes from daticert.xml.
		if in, err = messageFromRaw(parse, raw, "", arrived); err != nil {
			return pecResult{}, err
		}
		notes = append(notes, "busta PEC senza un postacert.eml leggibile: mostrata la busta del gestore")
	}
	in.Channel = channels.PEC
	in.ReceivedAt = arrived
	if d := m.DatiCert; d != nil {
		info.ID, info.Sender, info.Provider = d.Identificativo, d.Mittente, d.GestoreEmittente
		if !d.Data.IsZero() {
			t := d.Data.UTC()
			info.SentAt = &t
		}
		if a, err := channels.NormalizeEmail(d.Mittente); err == nil {
			switch {
			case in.From == "" || fromEnvelope:
				in.From, in.FromName = a, ""
			case a != in.From:
				// The certification is about the mittente: say so when the message claims another.
				notes = append(notes, "il mittente certificato ("+a+") non è il From del messaggio ("+in.From+")")
			}
		}
	} else if m.DatiCertErr != nil {
		notes = append(notes, "daticert.xml non leggibile: "+m.DatiCertErr.Error())
	}
	switch {
	case info.ID != "":
		in.ExternalID = info.ID
	case m.MessageID != "":
		in.ExternalID = m.MessageID
	default:
		in.ExternalID = "sha256-" + info.EnvelopeSHA256 + "@sportello.invalid"
	}
	if info.Anomaly {
		notes = append(notes, "busta di anomalia: il gestore PEC non ha potuto certificare questo messaggio")
	}
	if m.Signature.Status != pec.SignatureValid {
		note := "firma del gestore PEC: " + signatureWords[m.Signature.Status]
		if m.Signature.Detail != "" {
			note += " (" + m.Signature.Detail + ")"
		}
		notes = append(notes, note)
	}
	for _, p := range m.Problems {
		notes = append(notes, "PEC: "+p)
	}
	in.Notes = append(notes, in.Notes...)
	in.Attachments = append(in.Attachments, channels.Attachment{Filename: EnvelopeFilename, ContentType: "message/rfc822", Data: raw})
	in.PEC = info
	return pecResult{in: in}, nil
}

var signatureWords = map[pec.SignatureStatus]string{
	pec.SignatureValid:     "valida",
	pec.SignatureUntrusted: "corretta, ma il certificato non risale a una radice fidata configurata",
	pec.SignatureInvalid:   "non valida",
	pec.SignatureAbsent:    "assente",
}

// pecReceipt makes the delivery update of a receipt. Only a receipt the provider vouches for
// sets a delivery state; any other is still kept on the message it names, with a note saying
// why it changed nothing (distrust, also returned for the log).
func pecReceipt(m *pec.Message, raw []byte, arrived time.Time) (r *channels.DeliveryReceipt, distrust string) {
	r = &channels.DeliveryReceipt{Channel: channels.PEC, RefMessageID: m.RefMessageID, Type: m.Receipt, ReceivedAt: arrived,
		Attachment: channels.Attachment{Filename: "ricevuta-" + safeName(m.Receipt) + ".eml", ContentType: "message/rfc822", Data: raw}}
	if r.RefMessageID == "" && m.DatiCert != nil {
		r.RefMessageID = m.DatiCert.MsgID
	}
	note := receiptNote(m)
	sender, distrust := receiptDistrust(m)
	if distrust == "" {
		// The certified msgid and mittente, not the unsigned headers, say which message it is.
		r.RefMessageID, r.CertifiedSender, r.Delivery = m.DatiCert.MsgID, sender, receiptDelivery[m.Receipt]
	} else {
		note += " — non considerata per lo stato di consegna: " + distrust
	}
	r.Note = note
	return r, distrust
}

// receiptNote is what the operator reads of a receipt: its type, provider, time, recipient
// and error as daticert.xml gives them.
func receiptNote(m *pec.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Ricevuta PEC di %s", strings.ReplaceAll(m.Receipt, "-", " "))
	if d := m.DatiCert; d != nil {
		if d.GestoreEmittente != "" {
			fmt.Fprintf(&b, ", gestore %s", d.GestoreEmittente)
		}
		if !d.Data.IsZero() {
			fmt.Fprintf(&b, ", %s", d.Data.Format("02/01/2006 15:04:05 -0700"))
		}
		if d.Consegna != "" {
			fmt.Fprintf(&b, ", destinatario %s", d.Consegna)
		}
		if d.ErroreEsteso != "" {
			fmt.Fprintf(&b, ": %s", d.ErroreEsteso)
		}
	}
	return b.String()
}

// receiptDistrust says why a receipt cannot set a delivery state, "" when it can; with "",
// sender is the certified sender of the message it is about. Only the signed part is the
// provider's word: the top-level X-Ricevuta and X-Riferimento-Message-ID are outside the
// signature (anyone can rewrite them on a genuine receipt), so the signed daticert.xml must
// certify the same type and message.
func receiptDistrust(m *pec.Message) (sender, distrust string) {
	if m.Signature.Status != pec.SignatureValid {
		distrust = "firma del gestore PEC " + signatureWords[m.Signature.Status]
		if m.Signature.Detail != "" {
			distrust += " (" + m.Signature.Detail + ")"
		}
		return "", distrust
	}
	d := m.DatiCert
	switch {
	case d == nil:
		return "", "daticert.xml assente o non leggibile"
	case d.Tipo != m.Receipt:
		return "", fmt.Sprintf("daticert.xml certifica %q, l'intestazione X-Ricevuta dice %q", d.Tipo, m.Receipt)
	case d.MsgID == "":
		return "", "daticert.xml non indica il messaggio (msgid)"
	case m.RefMessageID != "" && m.RefMessageID != d.MsgID:
		return "", fmt.Sprintf("X-Riferimento-Message-ID (%s) non è il msgid certificato (%s)", m.RefMessageID, d.MsgID)
	}
	sender, err := channels.NormalizeEmail(d.Mittente)
	if err != nil {
		return "", "daticert.xml non indica un mittente valido"
	}
	return sender, ""
}

// safeName keeps a receipt type usable in a file name.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, strings.ToLower(s))
	if s == "" || len(s) > 40 {
		return "pec"
	}
	return s
}
