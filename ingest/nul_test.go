package ingest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/channels"
)

var timeType = reflect.TypeOf(time.Time{})

// fillText writes s into every exported text field reachable from v: strings, pointers to
// them, slices of them and of structs, pointed-to structs. A field added to the inbound
// message later is filled too, so this test notices when withoutNUL forgets it.
func fillText(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.String || v.Type().Elem().Kind() == reflect.Struct && v.Type().Elem() != timeType {
			v.Set(reflect.New(v.Type().Elem()))
			fillText(v.Elem(), s)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String || v.Type().Elem().Kind() == reflect.Struct {
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			for i := 0; i < 2; i++ {
				fillText(v.Index(i), s)
			}
		}
	case reflect.Struct:
		if v.Type() == timeType {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fillText(v.Field(i), s)
			}
		}
	}
}

// textWithNUL names the text fields reachable from v that hold a NUL.
func textWithNUL(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.String:
		if strings.IndexByte(v.String(), 0) >= 0 {
			return []string{path}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return textWithNUL(v.Elem(), path)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes (attachment data) are stored as they are
		}
		var out []string
		for i := 0; i < v.Len(); i++ {
			out = append(out, textWithNUL(v.Index(i), path+"[]")...)
		}
		return out
	case reflect.Struct:
		var out []string
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				out = append(out, textWithNUL(v.Field(i), path+"."+v.Type().Field(i).Name)...)
			}
		}
		return out
	}
	return nil
}

func TestWithoutNULCleansEveryTextFieldAndLeavesTheCallersMessageAlone(t *testing.T) {
	var in channels.InboundMessage
	fillText(reflect.ValueOf(&in).Elem(), "a\x00b")
	if got := textWithNUL(reflect.ValueOf(in), "in"); len(got) < 20 {
		t.Fatalf("the fixture filled only %d fields: %v", len(got), got)
	}
	before := textWithNUL(reflect.ValueOf(in), "in")
	clean := withoutNUL(in)
	if left := textWithNUL(reflect.ValueOf(clean), "in"); len(left) > 0 {
		t.Errorf("NUL left in %v", left)
	}
	if clean.Subject != "ab" || *clean.Call.RecordingURL != "ab" || clean.Attachments[1].Filename != "ab" {
		t.Errorf("NUL not simply removed: subject %q, recording %q, filename %q",
			clean.Subject, *clean.Call.RecordingURL, clean.Attachments[1].Filename)
	}
	if after := textWithNUL(reflect.ValueOf(in), "in"); !reflect.DeepEqual(before, after) {
		t.Errorf("the caller's message was written: NUL before in %v, after in %v", before, after)
	}
}

func TestReceiptWithoutNULCleansEveryTextField(t *testing.T) {
	var r channels.DeliveryReceipt
	fillText(reflect.ValueOf(&r).Elem(), "a\x00b")
	if left := textWithNUL(reflect.ValueOf(receiptWithoutNUL(r)), "r"); len(left) > 0 {
		t.Errorf("NUL left in %v", left)
	}
}

// The door runs for every SMS and email: a message without NUL costs no allocation.
func TestWithoutNULDoesNotAllocateForACleanMessage(t *testing.T) {
	in := channels.InboundMessage{Channel: channels.Email, ExternalID: "m1@example.it", MessageID: "m1@example.it",
		From: "anna@example.it", FromName: "Anna", To: "urp@comune.fi.it", Subject: "Buca in via dei Neri",
		Body: strings.Repeat("Buongiorno, segnalo una buca profonda. ", 100), References: []string{"m0@example.it"},
		Notes: []string{"nota"}, Attachments: []channels.Attachment{{Filename: "foto.jpg", ContentType: "image/jpeg", Data: []byte{0, 1, 0}}}}
	if n := testing.AllocsPerRun(100, func() { in = withoutNUL(in) }); n != 0 {
		t.Errorf("%v allocations for a message without NUL", n)
	}
}
