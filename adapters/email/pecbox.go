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
		return pecResult{receipt: pecReceipt(m, raw, arrived)}, nil
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

func pecReceipt(m *pec.Message, raw []byte, arrived time.Time) *channels.DeliveryReceipt {
	ref := m.RefMessageID
	var b strings.Builder
	fmt.Fprintf(&b, "Ricevuta PEC di %s", strings.ReplaceAll(m.Receipt, "-", " "))
	if d := m.DatiCert; d != nil {
		if ref == "" {
			ref = d.MsgID
		}
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
	if m.Signature.Status != pec.SignatureValid {
		fmt.Fprintf(&b, " [firma %s]", signatureWords[m.Signature.Status])
	}
	return &channels.DeliveryReceipt{Channel: channels.PEC, RefMessageID: ref, Type: m.Receipt, Delivery: receiptDelivery[m.Receipt],
		Note: b.String(), ReceivedAt: arrived,
		Attachment: channels.Attachment{Filename: "ricevuta-" + safeName(m.Receipt) + ".eml", ContentType: "message/rfc822", Data: raw}}
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
