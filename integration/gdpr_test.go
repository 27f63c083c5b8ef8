package integration

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/integration/harness"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/store/storetest"
)

// The erased citizen's values: each exists only in their contacts, and is searched for after the
// erasure in the API, the pages and the database files.
const (
	gdprPhone   = "+393471122334"
	gdprEmail   = "ottavio.pizzicagnoli@example.org"
	gdprName    = "Ottavio Pizzicagnoli"
	gdprSMS     = "Sono in via Brunelleschiana 41 e ho preso una multa"
	gdprSubject = "Certificato per Pizzicagnoli"
	gdprMail    = "Allego il documento di identità numero AX7781234"
	gdprFile    = "FILE-ORIGINALE-c0ffee-carta-identita-AX7781234"
)

var gdprValues = []string{gdprPhone, gdprEmail, gdprName, "Pizzicagnoli", "Brunelleschiana", "AX7781234", gdprFile}

// gdprServer is the real binary serving on a new database, with an admin and an operator.
type gdprServer struct {
	p                 *harness.Process
	dir, cfg, dbURL   string
	smtpAddr          string
	admin, operator   string // API tokens
	adminUser, opUser string
	dialect           store.Dialect
}

func startGDPRServer(t *testing.T, d store.Dialect, extra string) *gdprServer {
	t.Helper()
	s := &gdprServer{dir: t.TempDir(), dbURL: storetest.NewDatabaseURL(t, d), dialect: d, adminUser: "dpo-admin", opUser: "anna"}
	s.start(t, extra)
	s.admin = s.userWithToken(t, s.adminUser, "admin")
	s.operator = s.userWithToken(t, s.opUser, "operator")
	return s
}

// start runs the binary on the server's database with the base config and extra.
func (s *gdprServer) start(t *testing.T, extra string) {
	t.Helper()
	addrs := harness.FreePorts(t, 2)
	s.smtpAddr = addrs[0]
	s.writeConfig(t, extra, addrs[1])
	s.p = harness.StartProcess(t, s.cfg, addrs[1])
}

// writeConfig writes the server's config file with the base config and extra; the commands
// run by cli read it from then on.
func (s *gdprServer) writeConfig(t *testing.T, extra, addr string) {
	t.Helper()
	yaml := fmt.Sprintf(emailYAML(extra), filepath.Join(s.dir, "data"), s.dbURL)
	yaml = strings.Replace(yaml, "smtp:\n  listen: 127.0.0.1:0", "smtp:\n  listen: "+s.smtpAddr, 1)
	yaml = strings.ReplaceAll(yaml, harness.TwilioAPIPlaceholder, "http://127.0.0.1:9")
	s.cfg = harness.WriteConfig(t, s.dir, yaml, addr)
}

// cli runs the binary against the server's config, with stdin.
func (s *gdprServer) cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	// --config goes before the flags: a positional argument (a CSV file) ends flag parsing.
	at := len(args)
	for i, a := range args {
		if strings.HasPrefix(a, "--") {
			at = i
			break
		}
	}
	args = append(append(append([]string{}, args[:at]...), "--config", s.cfg), args[at:]...)
	cmd := exec.Command(harness.Binary(t), args...)
	cmd.Dir = s.dir
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *gdprServer) userWithToken(t *testing.T, username, role string) string {
	t.Helper()
	if out, err := s.cli(t, browserPassword+"\n", "user", "add", "--username", username, "--role", role); err != nil {
		t.Fatalf("user add %s: %v\n%s", username, err, out)
	}
	out, err := s.cli(t, "", "token", "create", "--username", username)
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// get fetches an API path with a token and returns status and body.
func (s *gdprServer) get(t *testing.T, path, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.p.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := harness.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// waitContact polls the contact list until a search finds one, and returns its id and citizen.
func (s *gdprServer) waitContact(t *testing.T, q string) (contactID, citizenID string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var list struct {
			Items []struct {
				ID      string `json:"id"`
				Citizen struct {
					ID string `json:"id"`
				} `json:"citizen"`
			} `json:"items"`
		}
		if code := harness.API(t, "GET", s.p.URL+"/api/v1/contacts?q="+url.QueryEscape(q), s.admin, nil, &list); code == 200 && len(list.Items) > 0 {
			return list.Items[0].ID, list.Items[0].Citizen.ID
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no contact found for %q within 30s\n%s", q, s.p.Output())
	return "", ""
}

func gdprMailWithAttachment() string {
	return strings.Join([]string{
		"From: " + gdprName + " <" + gdprEmail + ">",
		"To: urp@comune.fi.it",
		"Subject: " + gdprSubject,
		"Date: " + time.Now().Format(time.RFC1123Z),
		"Message-ID: <gdpr-1@example.org>",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="b1"`,
		"",
		"--b1",
		"Content-Type: text/plain; charset=utf-8",
		"",
		gdprMail,
		"--b1",
		`Content-Type: application/octet-stream; name="carta.bin"`,
		`Content-Disposition: attachment; filename="carta.bin"`,
		"",
		gdprFile,
		"--b1--",
		"",
	}, "\r\n")
}

// TestCitizenExportAndErase runs on the real binary, on SQLite and on PostgreSQL: a citizen who
// wrote an SMS and an email with an attachment, and was imported as an alert subscriber, is
// exported (every file of the ZIP checked) and erased; afterwards the API, the pages, search and
// the database files are searched for each erased value, and re-importing the number is refused.
func TestCitizenExportAndErase(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(strings.ToLower(string(d)), func(t *testing.T) {
			s := startGDPRServer(t, d, "")
			if resp, body := harness.PostTwilio(t, s.p.URL, "/webhooks/twilio/sms", harness.SMSForm("SM00000000000000000000000000000001", gdprPhone, "+390552768000", gdprSMS)); resp.StatusCode != 200 {
				t.Fatalf("sms webhook: %d %s", resp.StatusCode, body)
			}
			smsContact, citizen := s.waitContact(t, "Brunelleschiana")
			if err := sendSMTP(t, s.smtpAddr, gdprEmail, "urp@comune.fi.it", gdprMailWithAttachment()); err != nil {
				t.Fatal(err)
			}
			mailContact, mailCitizen := s.waitContact(t, "AX7781234")
			// The same person on two channels: the operator merges them (as the inbox does).
			if code := harness.API(t, "POST", s.p.URL+"/api/v1/citizens/"+citizen+"/merge", s.admin, map[string]string{"citizen_id": mailCitizen}, nil); code != 200 {
				t.Fatalf("merge: %d", code)
			}
			csv := filepath.Join(s.dir, "iscritti.csv")
			if err := os.WriteFile(csv, []byte("phone\n"+gdprPhone+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := s.cli(t, "", "subscribers", "import", "--comune", "firenze", csv); err != nil || !strings.Contains(out, "imported 1 of 1") {
				t.Fatalf("import: %v\n%s", err, out)
			}

			// Export: admins only.
			if code, _ := s.get(t, "/api/v1/citizens/"+citizen+"/export", s.operator); code != http.StatusForbidden {
				t.Fatalf("operator export: %d, want 403", code)
			}
			code, zipBytes := s.get(t, "/api/v1/citizens/"+citizen+"/export", s.admin)
			if code != 200 {
				t.Fatalf("export: %d %s", code, zipBytes)
			}
			files := readZip(t, zipBytes)
			for name, want := range map[string][]string{
				"citizen.json":  {gdprPhone, gdprEmail, citizen},
				"contacts.json": {gdprSMS, gdprMail, gdprSubject, smsContact, mailContact, "carta.bin"},
				"consents.json": {gdprPhone, `"import"`, `"confirmed"`},
			} {
				for _, w := range want {
					if !strings.Contains(files[name], w) {
						t.Errorf("export %s lacks %q:\n%s", name, w, files[name])
					}
				}
			}
			var attached int
			for name, body := range files {
				if strings.HasPrefix(name, "attachments/") && strings.HasSuffix(name, "_carta.bin") {
					attached++
					if strings.TrimSpace(body) != gdprFile {
						t.Errorf("attachment bytes differ: %q", body)
					}
				}
			}
			if attached != 1 {
				t.Fatalf("export has %d copies of the attachment, want 1: %v", attached, keys(files))
			}

			// Erasure: admins only, with a reason.
			if code := harness.API(t, "POST", s.p.URL+"/api/v1/citizens/"+citizen+"/erase", s.operator, map[string]string{"reason": "x"}, nil); code != http.StatusForbidden {
				t.Fatalf("operator erase: %d, want 403", code)
			}
			if code := harness.API(t, "POST", s.p.URL+"/api/v1/citizens/"+citizen+"/erase", s.admin, map[string]string{"reason": " "}, nil); code != http.StatusBadRequest {
				t.Fatalf("erase without reason: %d, want 400", code)
			}
			var res struct {
				Erased store.ErasureCounts `json:"erased"`
			}
			start := time.Now()
			if code := harness.API(t, "POST", s.p.URL+"/api/v1/citizens/"+citizen+"/erase", s.admin,
				map[string]string{"reason": "Richiesta art. 17 di " + gdprName + " del 30/11"}, &res); code != 200 {
				t.Fatalf("erase: %d", code)
			}
			t.Logf("erasure took %v", time.Since(start).Round(time.Millisecond))
			e := res.Erased
			if e.Contacts != 2 || e.Attachments != 1 || e.Blobs != 1 || e.Identities != 2 || e.Subscriptions != 1 || !e.FilesScrubbed {
				t.Fatalf("erased: %+v", e)
			}

			// The API: search, lists, the contacts, the citizen and the audit log.
			paths := []string{"/api/v1/contacts", "/api/v1/contacts/" + smsContact, "/api/v1/contacts/" + mailContact,
				"/api/v1/citizens/" + citizen, "/api/v1/audit?limit=500"}
			for _, v := range gdprValues {
				paths = append(paths, "/api/v1/contacts?q="+url.QueryEscape(v))
			}
			for _, p := range paths {
				code, body := s.get(t, p, s.admin)
				if code != 200 {
					t.Fatalf("GET %s: %d", p, code)
				}
				assertNoErased(t, "GET "+p, body)
				if strings.Contains(p, "?q=") && !bytes.Contains(body, []byte(`"items":[]`)) {
					t.Errorf("search %s still finds something: %s", p, body)
				}
			}
			_, audit := s.get(t, "/api/v1/audit?action=erase", s.admin)
			if !bytes.Contains(audit, []byte(`"actor":"`+s.adminUser+`"`)) || !bytes.Contains(audit, []byte("Richiesta art. 17 di [cancellato] del 30/11")) {
				t.Errorf("audit entry of the erasure: %s", audit)
			}
			// Report counts survive: the contacts keep channel, comune and times.
			var ct struct {
				Channel    string  `json:"channel"`
				Comune     *string `json:"comune"`
				ReceivedAt string  `json:"received_at"`
				Body       string  `json:"body"`
			}
			harness.API(t, "GET", s.p.URL+"/api/v1/contacts/"+mailContact, s.admin, nil, &ct)
			if ct.Channel != "email" || ct.Comune == nil || *ct.Comune != "firenze" || ct.ReceivedAt == "" || ct.Body != store.Erased {
				t.Errorf("erased contact for the reports: %+v", ct)
			}

			// The pages an admin sees.
			pc := pageClient(t)
			pageLogin(t, pc, s.p.URL, s.adminUser)
			for _, p := range []string{"/inbox", "/inbox/contacts/" + smsContact, "/inbox/contacts/" + mailContact, "/inbox/citizens/" + citizen,
				"/inbox?q=Brunelleschiana", "/inbox?q=Pizzicagnoli", "/inbox/outbox"} {
				code, body, _ := pageGet(t, pc, s.p.URL+p)
				if code != 200 {
					t.Fatalf("page %s: %d", p, code)
				}
				if _, q, ok := strings.Cut(p, "?q="); ok {
					// The search box shows the query itself; the results must be empty.
					if !strings.Contains(body, `class="empty"`) {
						t.Errorf("search page %s lists contacts", p)
					}
					body = strings.ReplaceAll(body, q, "")
				}
				assertNoErased(t, "page "+p, []byte(body))
			}

			// Re-importing the number is refused: the STOP list kept its hash.
			if out, err := s.cli(t, "", "subscribers", "import", "--comune", "firenze", csv); err != nil || !strings.Contains(out, "imported 0 of 1") ||
				!strings.Contains(out, "1 said STOP") {
				t.Fatalf("import after erasure: %v\n%s", err, out)
			}

			// The database files.
			if d == store.SQLite {
				db := filepath.Join(s.dir, "data", "sportello.db")
				for _, f := range []string{db, db + "-wal"} {
					b, err := os.ReadFile(f)
					if os.IsNotExist(err) {
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("%s: %d bytes searched", filepath.Base(f), len(b))
					assertNoErased(t, filepath.Base(f), b)
				}
			} else {
				out, err := exec.Command("pg_dump", "--data-only", "--dbname", s.dbURL).Output()
				if err != nil {
					t.Fatalf("pg_dump: %v", err)
				}
				t.Logf("pg_dump --data-only: %d bytes searched", len(out))
				assertNoErased(t, "pg_dump", out)
				if found := measurePGFiles(t, s.dbURL); found == 0 {
					t.Logf("the plain VACUUM left no erased value in the measured files this time")
				}
				// VACUUM FULL rewrites the tables: the erased values leave the files.
				start := time.Now()
				if out, err := s.cli(t, "", "retention", "run", "--vacuum-full"); err != nil || !strings.Contains(out, "tables rewritten") {
					t.Fatalf("retention run --vacuum-full: %v\n%s", err, out)
				}
				t.Logf("retention run --vacuum-full took %v", time.Since(start).Round(time.Millisecond))
				if found := measurePGFiles(t, s.dbURL); found > 0 {
					t.Errorf("after VACUUM FULL the tables' files still hold %d erased values", found)
				}
			}
		})
	}
}

// TestRetentionRunErasesOldContact: a call received 40 days ago (the CTI event's timestamp) and
// resolved is erased by `sportello retention run` with retention.contacts 30; a call of today is
// not.
func TestRetentionRunErasesOldContact(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(strings.ToLower(string(d)), func(t *testing.T) {
			// The server runs without retention: with it, its own job (run by River's leader at
			// start, which on PostgreSQL can come seconds later, after the resolve below) would
			// erase the old call before the command under test. Only the command's config has it.
			s := startGDPRServer(t, d, "")
			old := time.Now().Add(-40 * 24 * time.Hour)
			cti := func(callID, from string, at time.Time, event string) {
				body, _ := json.Marshal(map[string]string{"event": event, "callId": callID, "from": from, "to": "+390552768000",
					"timestamp": strconv.FormatInt(at.Unix(), 10)})
				req, _ := http.NewRequest(http.MethodPost, s.p.URL+"/webhooks/cti", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+harness.CTIToken)
				req.Header.Set("Content-Type", "application/json")
				resp, text := harness.Do(t, req)
				if resp.StatusCode != 200 {
					t.Fatalf("cti %s: %d %s", event, resp.StatusCode, text)
				}
			}
			cti("old-call-1", gdprPhone, old, "newCall")
			cti("old-call-1", gdprPhone, old.Add(3*time.Minute), "hangup")
			cti("new-call-1", "+393470000009", time.Now(), "newCall")
			oldContact, oldCitizen := s.waitContact(t, gdprPhone)
			newContact, _ := s.waitContact(t, "+393470000009")
			for _, id := range []string{oldContact, newContact} {
				if code := harness.API(t, "POST", s.p.URL+"/api/v1/contacts/"+id+"/resolve", s.admin, map[string]string{"outcome": "first_level"}, nil); code != 200 {
					t.Fatalf("resolve %s: %d", id, code)
				}
			}
			s.writeConfig(t, "retention:\n  contacts: 30\n  audit: 30\n", strings.TrimPrefix(s.p.URL, "http://"))
			out, err := s.cli(t, "", "retention", "run")
			if err != nil || !strings.Contains(out, "contacts 1,") || !strings.Contains(out, "scrubbed: true") {
				t.Fatalf("retention run: %v\n%s", err, out)
			}
			t.Logf("retention run: %s", strings.TrimSpace(out))
			code, body := s.get(t, "/api/v1/contacts/"+oldContact, s.admin)
			if code != 200 || bytes.Contains(body, []byte(gdprPhone)) || !bytes.Contains(body, []byte(`"from":"[cancellato]"`)) {
				t.Fatalf("old contact after retention: %d %s", code, body)
			}
			code, body = s.get(t, "/api/v1/citizens/"+oldCitizen, s.admin)
			if code != 200 || bytes.Contains(body, []byte(gdprPhone)) || !bytes.Contains(body, []byte(`"erased_at"`)) {
				t.Fatalf("old citizen after retention: %d %s", code, body)
			}
			if _, body := s.get(t, "/api/v1/contacts/"+newContact, s.admin); !bytes.Contains(body, []byte("+393470000009")) {
				t.Fatalf("today's contact was erased: %s", body)
			}
			// Twice is harmless.
			if out, err := s.cli(t, "", "retention", "run"); err != nil || !strings.Contains(out, "contacts 0,") {
				t.Fatalf("second retention run: %v\n%s", err, out)
			}
		})
	}
}

// TestServerAppliesRetention: the server applies retention: by itself (a River periodic job,
// run by the leader at start and then daily). A call of 40 days ago is taken and resolved by a
// server without retention; the same database served with retention.contacts 30 erases it.
func TestServerAppliesRetention(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(strings.ToLower(string(d)), func(t *testing.T) {
			s := startGDPRServer(t, d, "")
			old := time.Now().Add(-40 * 24 * time.Hour)
			for _, ev := range []struct {
				event string
				at    time.Time
			}{{"newCall", old}, {"hangup", old.Add(time.Minute)}} {
				body, _ := json.Marshal(map[string]string{"event": ev.event, "callId": "daily-1", "from": gdprPhone, "to": "+390552768000",
					"timestamp": ev.at.UTC().Format(time.RFC3339)})
				req, _ := http.NewRequest(http.MethodPost, s.p.URL+"/webhooks/cti", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+harness.CTIToken)
				req.Header.Set("Content-Type", "application/json")
				if resp, text := harness.Do(t, req); resp.StatusCode != 200 {
					t.Fatalf("cti: %d %s", resp.StatusCode, text)
				}
			}
			contact, _ := s.waitContact(t, gdprPhone)
			if code := harness.API(t, "POST", s.p.URL+"/api/v1/contacts/"+contact+"/resolve", s.admin, map[string]string{"outcome": "first_level"}, nil); code != 200 {
				t.Fatalf("resolve: %d", code)
			}
			if err := s.p.Stop(t); err != nil {
				t.Fatal(err)
			}
			s.start(t, "retention:\n  contacts: 30\n")
			deadline := time.Now().Add(60 * time.Second)
			for {
				_, body := s.get(t, "/api/v1/contacts/"+contact, s.admin)
				if bytes.Contains(body, []byte(`"from":"[cancellato]"`)) && !bytes.Contains(body, []byte(gdprPhone)) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the server did not apply retention within 60s: %s\n%s", body, s.p.Output())
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
}

func readZip(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("export is not a ZIP: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(data)
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func assertNoErased(t *testing.T, where string, b []byte) {
	t.Helper()
	for _, v := range gdprValues {
		if bytes.Contains(b, []byte(v)) {
			t.Errorf("%s still holds %q", where, v)
		}
	}
}

// measurePGFiles counts the erased values still in the raw files of the main tables (heap
// files, read from PostgreSQL's data directory after a CHECKPOINT; not their TOAST or index
// files): after a plain VACUUM a dead row's bytes stay in the page until the space is reused
// (docs/privacy.md).
func measurePGFiles(t *testing.T, dbURL string) (total int) {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var dataDir string
	if err := db.QueryRowContext(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
		t.Logf("raw files not measured: %v", err)
		return 0
	}
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		t.Logf("raw files not measured: %v", err)
		return 0
	}
	for _, table := range []string{"contacts", "messages", "identities", "citizens", "blobs", "subscribers", "subscriber_consents"} {
		var rel string
		if err := db.QueryRowContext(ctx, "SELECT pg_relation_filepath($1)", table).Scan(&rel); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dataDir, rel))
		if err != nil {
			t.Logf("raw file of %s not readable here: %v", table, err)
			return 0
		}
		var found []string
		for _, v := range gdprValues {
			if bytes.Contains(b, []byte(v)) {
				found = append(found, v)
			}
		}
		t.Logf("PostgreSQL raw file of %s: %d bytes, holds %d of %d erased values %v", table, len(b), len(found), len(gdprValues), found)
		total += len(found)
	}
	return total
}
