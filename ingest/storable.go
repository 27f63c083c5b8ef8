package ingest

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sportello/sportello/channels"
)

// PostgreSQL refuses a NUL byte in text, and text that is not valid UTF-8 (SQLSTATE 22021),
// and any channel can deliver either: an SMTP client sends every byte it likes, a webhook's
// form field can hold %00 or %FF. A message with one would be refused on every attempt, so
// the door takes NUL out of every text field and replaces invalid bytes with U+FFFD before
// anything routes or stores it. The check is one strings.IndexByte and one utf8.ValidString
// per field: this runs for every inbound message, and almost none needs more.

// storable returns in with its text storable: NUL removed, invalid UTF-8 replaced. The caller's slices and
// pointed-to values are never written: what changes is copied first.
func storable(in channels.InboundMessage) channels.InboundMessage {
	makeStorable(&in.Channel)
	makeStorable(&in.Direction)
	makeStorable(&in.ExternalID)
	makeStorable(&in.From)
	makeStorable(&in.FromName)
	makeStorable(&in.To)
	makeStorable(&in.Subject)
	makeStorable(&in.Body)
	makeStorable(&in.Comune)
	makeStorable(&in.MessageID)
	makeStorable(&in.InReplyTo)
	makeStorable(&in.EnvelopeFrom)
	makeStorable(&in.SenderCheck)
	in.References = storableStrings(in.References)
	in.Notes = storableStrings(in.Notes)
	in.Attachments = storableAttachments(in.Attachments)
	if in.Call != nil {
		in.Call = storableCall(in.Call)
	}
	if in.PEC != nil {
		in.PEC = storablePEC(in.PEC)
	}
	return in
}

// storableReceipt is storable for a delivery receipt.
func storableReceipt(r channels.DeliveryReceipt) channels.DeliveryReceipt {
	makeStorable(&r.Channel)
	makeStorable(&r.Comune)
	makeStorable(&r.RefMessageID)
	makeStorable(&r.CertifiedSender)
	makeStorable(&r.Type)
	makeStorable(&r.Delivery)
	makeStorable(&r.Note)
	makeAttachmentStorable(&r.Attachment)
	return r
}

func unstorable[S ~string](s S) bool {
	return strings.IndexByte(string(s), 0) >= 0 || !utf8.ValidString(string(s))
}

func makeStorable[S ~string](s *S) {
	if unstorable(*s) {
		*s = S(storableString(string(*s)))
	}
}

func storableString(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// makeStorablePointer replaces a pointed-to string that cannot be stored with a clean copy, leaving the
// caller's string as it was.
func makeStorablePointer(p **string) {
	if *p != nil && unstorable(**p) {
		clean := storableString(**p)
		*p = &clean
	}
}

func storableStrings(list []string) []string {
	first := slices.IndexFunc(list, unstorable[string])
	if first < 0 {
		return list
	}
	out := slices.Clone(list)
	for i := first; i < len(out); i++ {
		makeStorable(&out[i])
	}
	return out
}

func attachmentUnstorable(a channels.Attachment) bool {
	return unstorable(a.ID) || unstorable(a.Filename) || unstorable(a.ContentType) || unstorable(a.SHA256) || unstorable(a.URL)
}

// makeAttachmentStorable cleans an attachment's text; its Data is bytes, stored as they are.
func makeAttachmentStorable(a *channels.Attachment) {
	makeStorable(&a.ID)
	makeStorable(&a.Filename)
	makeStorable(&a.ContentType)
	makeStorable(&a.SHA256)
	makeStorable(&a.URL)
}

func storableAttachments(list []channels.Attachment) []channels.Attachment {
	first := slices.IndexFunc(list, attachmentUnstorable)
	if first < 0 {
		return list
	}
	out := slices.Clone(list)
	for i := first; i < len(out); i++ {
		makeAttachmentStorable(&out[i])
	}
	return out
}

// storableCall returns a cleaned copy of c (a call is rare enough that copying always is
// simpler than checking first).
func storableCall(c *channels.Call) *channels.Call {
	clean := *c
	makeStorable(&clean.Status)
	makeStorable(&clean.Operator)
	makeStorablePointer(&clean.RecordingURL)
	makeStorablePointer(&clean.Result)
	makeStorablePointer(&clean.AnsweredBy)
	makeStorablePointer(&clean.TransferredTo)
	return &clean
}

// storablePEC returns a cleaned copy of p.
func storablePEC(p *channels.PECInfo) *channels.PECInfo {
	clean := *p
	makeStorable(&clean.ID)
	makeStorable(&clean.Sender)
	makeStorable(&clean.Provider)
	makeStorable(&clean.EnvelopeSHA256)
	makeStorable(&clean.Signature)
	makeStorable(&clean.SignatureDetail)
	makeStorable(&clean.Signer)
	return &clean
}

// storableCallEvent is storable for news about a call.
func storableCallEvent(ev channels.CallEvent) channels.CallEvent {
	makeStorable(&ev.Status)
	makeStorable(&ev.RecordingURL)
	makeStorable(&ev.Operator)
	makeStorable(&ev.Category)
	makeStorable(&ev.Result)
	makeStorable(&ev.TransferredTo)
	makeStorable(&ev.Offer)
	return ev
}
