package ingest

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/channels"
)

var timeType = reflect.TypeOf(time.Time{})

// fillText writes s into every exported text field reachable from v: strings, pointers to
// them, slices of them and of structs, pointed-to structs. A field added to the inbound
// message later is filled too, so this test notices when storable forgets it.
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

// unstorableText names the text fields reachable from v that hold a NUL or invalid UTF-8.
func unstorableText(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.String:
		if strings.IndexByte(v.String(), 0) >= 0 || !utf8.ValidString(v.String()) {
			return []string{path}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return unstorableText(v.Elem(), path)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes (attachment data) are stored as they are
		}
		var out []string
		for i := 0; i < v.Len(); i++ {
			out = append(out, unstorableText(v.Index(i), path+"[]")...)
		}
		return out
	case reflect.Struct:
		var out []string
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				out = append(out, unstorableText(v.Field(i), path+"."+v.Type().Field(i).Name)...)
			}
		}
		return out
	}
	return nil
}

func TestStorableCleansEveryTextFieldAndLeavesTheCallersMessageAlone(t *testing.T) {
	var in channels.InboundMessage
	fillText(reflect.ValueOf(&in).Elem(), "a\x00b\xff")
	if got := unstorableText(reflect.ValueOf(in), "in"); len(got) < 20 {
		t.Fatalf("the fixture filled only %d fields: %v", len(got), got)
	}
	before := unstorableText(reflect.ValueOf(in), "in")
	clean := storable(in)
	if left := unstorableText(reflect.ValueOf(clean), "in"); len(left) > 0 {
		t.Errorf("NUL or invalid UTF-8 left in %v", left)
	}
	if want := "ab\uFFFD"; clean.Subject != want || *clean.Call.RecordingURL != want || clean.Attachments[1].Filename != want {
		t.Errorf("NUL not simply removed, or invalid UTF-8 not replaced: subject %q, recording %q, filename %q",
			clean.Subject, *clean.Call.RecordingURL, clean.Attachments[1].Filename)
	}
	if after := unstorableText(reflect.ValueOf(in), "in"); !reflect.DeepEqual(before, after) {
		t.Errorf("the caller's message was written: unstorable before in %v, after in %v", before, after)
	}
}

func TestStorableReceiptCleansEveryTextField(t *testing.T) {
	var r channels.DeliveryReceipt
	fillText(reflect.ValueOf(&r).Elem(), "a\x00b\xff")
	if left := unstorableText(reflect.ValueOf(storableReceipt(r)), "r"); len(left) > 0 {
		t.Errorf("NUL or invalid UTF-8 left in %v", left)
	}
}

// The door runs for every SMS and email: a clean message costs no allocation.
func TestStorableDoesNotAllocateForACleanMessage(t *testing.T) {
	in := channels.InboundMessage{Channel: channels.Email, ExternalID: "m1@example.it", MessageID: "m1@example.it",
		From: "anna@example.it", FromName: "Anna", To: "urp@comune.fi.it", Subject: "Buca in via dei Neri",
		Body: strings.Repeat("Buongiorno, segnalo una buca profonda. ", 100), References: []string{"m0@example.it"},
		Notes: []string{"nota"}, Attachments: []channels.Attachment{{Filename: "foto.jpg", ContentType: "image/jpeg", Data: []byte{0, 1, 0}}}}
	if n := testing.AllocsPerRun(100, func() { in = storable(in) }); n != 0 {
		t.Errorf("%v allocations for a clean message", n)
	}
}

func TestStorableCallEventCleansEveryTextField(t *testing.T) {
	var ev channels.CallEvent
	fillText(reflect.ValueOf(&ev).Elem(), "a\x00b\xff")
	if left := unstorableText(reflect.ValueOf(storableCallEvent(ev)), "ev"); len(left) > 0 {
		t.Errorf("NUL or invalid UTF-8 left in %v", left)
	}
}
