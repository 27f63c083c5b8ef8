package ingest

import (
	"slices"
	"strings"

	"github.com/sportello/sportello/channels"
)

// PostgreSQL refuses a NUL byte in text (SQLSTATE 22021), and any channel can deliver one: an
// SMTP client sends every byte it likes, a webhook's form field can hold %00. A message with
// one would be refused on every attempt, so the door takes NUL out of every text field before
// anything routes or stores it. The check is one strings.IndexByte per field: this runs for
// every inbound message, and almost none has a NUL.

// withoutNUL returns in with every NUL byte removed from its text. The caller's slices and
// pointed-to values are never written: what changes is copied first.
func withoutNUL(in channels.InboundMessage) channels.InboundMessage {
	dropNUL(&in.Channel)
	dropNUL(&in.Direction)
	dropNUL(&in.ExternalID)
	dropNUL(&in.From)
	dropNUL(&in.FromName)
	dropNUL(&in.To)
	dropNUL(&in.Subject)
	dropNUL(&in.Body)
	dropNUL(&in.Comune)
	dropNUL(&in.MessageID)
	dropNUL(&in.InReplyTo)
	dropNUL(&in.EnvelopeFrom)
	dropNUL(&in.SenderCheck)
	in.References = stringsWithoutNUL(in.References)
	in.Notes = stringsWithoutNUL(in.Notes)
	in.Attachments = attachmentsWithoutNUL(in.Attachments)
	if in.Call != nil {
		in.Call = callWithoutNUL(in.Call)
	}
	if in.PEC != nil {
		in.PEC = pecWithoutNUL(in.PEC)
	}
	return in
}

// receiptWithoutNUL is withoutNUL for a delivery receipt.
func receiptWithoutNUL(r channels.DeliveryReceipt) channels.DeliveryReceipt {
	dropNUL(&r.Channel)
	dropNUL(&r.RefMessageID)
	dropNUL(&r.Type)
	dropNUL(&r.Delivery)
	dropNUL(&r.Note)
	dropAttachmentNUL(&r.Attachment)
	return r
}

func hasNUL[S ~string](s S) bool { return strings.IndexByte(string(s), 0) >= 0 }

func dropNUL[S ~string](s *S) {
	if hasNUL(*s) {
		*s = S(strings.ReplaceAll(string(*s), "\x00", ""))
	}
}

// dropNULPointer replaces a pointed-to string holding NUL with a clean copy, leaving the
// caller's string as it was.
func dropNULPointer(p **string) {
	if *p != nil && hasNUL(**p) {
		clean := strings.ReplaceAll(**p, "\x00", "")
		*p = &clean
	}
}

func stringsWithoutNUL(list []string) []string {
	first := slices.IndexFunc(list, hasNUL[string])
	if first < 0 {
		return list
	}
	out := slices.Clone(list)
	for i := first; i < len(out); i++ {
		dropNUL(&out[i])
	}
	return out
}

func attachmentHasNUL(a channels.Attachment) bool {
	return hasNUL(a.ID) || hasNUL(a.Filename) || hasNUL(a.ContentType) || hasNUL(a.SHA256) || hasNUL(a.URL)
}

// dropAttachmentNUL cleans an attachment's text; its Data is bytes, stored as they are.
func dropAttachmentNUL(a *channels.Attachment) {
	dropNUL(&a.ID)
	dropNUL(&a.Filename)
	dropNUL(&a.ContentType)
	dropNUL(&a.SHA256)
	dropNUL(&a.URL)
}

func attachmentsWithoutNUL(list []channels.Attachment) []channels.Attachment {
	first := slices.IndexFunc(list, attachmentHasNUL)
	if first < 0 {
		return list
	}
	out := slices.Clone(list)
	for i := first; i < len(out); i++ {
		dropAttachmentNUL(&out[i])
	}
	return out
}

// callWithoutNUL returns a cleaned copy of c (a call is rare enough that copying always is
// simpler than checking first).
func callWithoutNUL(c *channels.Call) *channels.Call {
	clean := *c
	dropNUL(&clean.Status)
	dropNUL(&clean.Operator)
	dropNULPointer(&clean.RecordingURL)
	dropNULPointer(&clean.Result)
	dropNULPointer(&clean.AnsweredBy)
	dropNULPointer(&clean.TransferredTo)
	return &clean
}

// pecWithoutNUL returns a cleaned copy of p.
func pecWithoutNUL(p *channels.PECInfo) *channels.PECInfo {
	clean := *p
	dropNUL(&clean.ID)
	dropNUL(&clean.Sender)
	dropNUL(&clean.Provider)
	dropNUL(&clean.EnvelopeSHA256)
	dropNUL(&clean.Signature)
	dropNUL(&clean.SignatureDetail)
	dropNUL(&clean.Signer)
	return &clean
}
