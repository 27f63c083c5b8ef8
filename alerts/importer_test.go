package alerts

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/store/alertstore"
)

func TestImportCSV(t *testing.T) {
	f := newFixture(t, 1000, 100)
	ctx := context.Background()
	// A number that said STOP stays off, whatever the file says.
	handle(t, f, "SM1", "+393470000003", firenzeNo, "STOP")
	csv := "\ufeffNome;Telefono;Lingua\n" +
		"Anna;347 000 0001;it\n" +
		"Bob;+44 7911 123456;en\n" +
		"Carla;0552768000;it\n" +
		"Dario;+393470000003;it\n" +
		"Elena;not a number;it\n" +
		"Anna again;+393470000001;it\n" +
		"short\n"
	rep, err := f.svc.ImportCSV(ctx, strings.NewReader(csv), "firenze", []string{"traffico"}, "import:test.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := ImportReport{Rows: 7, Imported: 2, OptedOut: 1, Invalid: 2, NotMobile: 1, Duplicates: 1}
	rep.Examples = nil
	if !reflect.DeepEqual(rep, want) {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	sb, _ := f.as.Subscriber(ctx, "firenze", "+447911123456")
	if sb.Status != alertstore.SubscriberConfirmed || sb.Lang != "en" || strings.Join(sb.Topics, ",") != "traffico" {
		t.Fatalf("%+v", sb)
	}
	if s := status(t, f, "firenze", "+393470000003"); s == alertstore.SubscriberConfirmed {
		t.Fatalf("a STOP was overridden: %s", s)
	}
	cs, _ := f.as.Consents(ctx, "firenze", "+393470000001")
	if len(cs) != 1 || cs[0].Via != alertstore.ViaImport || cs[0].Actor != "import:test.csv" {
		t.Fatalf("%+v", cs)
	}
	for _, bad := range []struct{ csv, code string }{
		{"", "empty_file"},
		{"name,email\nx,y\n", "missing_phone_column"},
		{"phone\n\"unterminated\n", "invalid_csv"},
	} {
		if _, err := f.svc.ImportCSV(ctx, strings.NewReader(bad.csv), "firenze", nil, "x"); !isCode(err, bad.code) {
			t.Errorf("%q: %v, want %s", bad.csv, err, bad.code)
		}
	}
	if _, err := f.svc.ImportCSV(ctx, strings.NewReader("phone\n3470000009\n"), "firenze", []string{"meteo"}, "x"); !isCode(err, "unknown_topic") {
		t.Fatalf("topic: %v", err)
	}
}

func TestImport100kRowsInSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	f := newFixture(t, 1000, 500)
	var b strings.Builder
	b.WriteString("phone\n")
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&b, "+39347%07d\n", i)
	}
	start := time.Now()
	rep, err := f.svc.ImportCSV(context.Background(), strings.NewReader(b.String()), "firenze", nil, "big.csv")
	took := time.Since(start)
	if err != nil || rep.Imported != 100000 {
		t.Fatalf("%+v %v", rep, err)
	}
	t.Logf("100,000 rows imported in %v", took)
	if took > 30*time.Second {
		t.Fatalf("import took %v", took)
	}
}

func TestScheduledAndExpiredAlertsBySweep(t *testing.T) {
	f := newFixture(t, 100000, 100, func(o *Options) { o.SweepEvery = 50 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.subscribe(t, "firenze", phones("+39347", 5)...)
	at := time.Now().Add(300 * time.Millisecond)
	a, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: "altro", Message: "Più tardi", SendAt: &at, Source: "api"})
	if err != nil || a.Status != alertstore.AlertScheduled || a.Recipients != 5 {
		t.Fatalf("%+v %v", a, err)
	}
	exp := time.Now().Add(200 * time.Millisecond)
	b, _, err := f.svc.CreateAlert(ctx, "firenze", AlertRequest{Category: TrafficCategory, Message: "Scade", ExpiresAt: &exp, Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _ := f.svc.GetAlert(ctx, "firenze", a.ID)
		sb, _ := f.svc.GetAlert(ctx, "firenze", b.ID)
		if st.Status == alertstore.AlertSending && sb.Status == alertstore.AlertExpired {
			if sb.Counts.Cancelled != 5 {
				t.Fatalf("the expired alert's queue: %+v", sb.Counts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scheduled %s, expiring %s", st.Status, sb.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if time.Now().Before(at) {
		t.Fatal("started before send_at")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
