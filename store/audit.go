package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// Audit actions.
const (
	AuditAssign   = "assign"
	AuditClaim    = "claim"
	AuditUnassign = "unassign"
	AuditReply    = "reply"
	AuditResolve  = "resolve"
	AuditMerge    = "merge"
	AuditPresence = "presence"
	AuditEscalate = "escalate"
	AuditReroute  = "reroute"
	// AuditIdentity: an operator gave a citizen an identity (a fiscal code).
	AuditIdentity = "identity"
)

// AuditSystem is the actor of what the gateway does by itself (automatic assignment, SLA).
const AuditSystem = "system"

// AuditEntry is one line of the audit log: who did what to which contact or citizen, when.
type AuditEntry struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	ContactID *string   `json:"contact_id"`
	CitizenID *string   `json:"citizen_id"`
	// Target is who or what the action was about: the assignee, the office, the new presence.
	Target string `json:"target"`
	Detail string `json:"detail"`
	// Comune is the comune an entry about neither a contact nor a citizen concerns (an API
	// key, a canned answer, a comune's hours); "" for one about a person or about everyone.
	Comune string `json:"comune,omitempty"`
}

// AuditTx records an entry inside a write transaction, so the log and the change it tells of
// commit together.
func (s *Store) AuditTx(ctx context.Context, tx *Tx, e AuditEntry) error {
	if e.ID == "" {
		e.ID = NewID()
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (id, at, actor, action, contact_id, citizen_id, target, detail, comune)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, Micros(e.At), e.Actor, e.Action, ptrOrNil(e.ContactID), ptrOrNil(e.CitizenID), e.Target, e.Detail,
		strOrNil(e.Comune))
	return err
}

// Audit records an entry in its own transaction.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	return s.Write(ctx, func(ctx context.Context, tx *Tx) error { return s.AuditTx(ctx, tx, e) })
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Actor     string
	Action    string
	ContactID string
	// Since and Until bound the entries' time: at >= Since and at < Until (zero: unbounded).
	Since, Until time.Time
	// Scope limits the entries to the caller's comuni: those about a contact or citizen of
	// theirs; of the ones about neither, those of their comuni (an API key, a canned answer,
	// hours), those about a user who shares a comune with them (user administration), and the
	// others (presence changes) whose actor shares one. Entries about something without a
	// comune are for unscoped users only.
	Scope  Scope
	Limit  int
	Cursor string
}

// AuditLog lists entries, newest first, and the cursor of the next page ("" at the end).
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, string, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var where strings.Builder
	where.WriteString(" WHERE 1 = 1")
	var args []any
	eq := func(col, v string) {
		if v != "" {
			where.WriteString(" AND " + col + " = ?")
			args = append(args, v)
		}
	}
	eq("actor", f.Actor)
	eq("action", f.Action)
	eq("contact_id", f.ContactID)
	if !f.Since.IsZero() {
		where.WriteString(" AND at >= ?")
		args = append(args, Micros(f.Since))
	}
	if !f.Until.IsZero() {
		where.WriteString(" AND at < ?")
		args = append(args, Micros(f.Until))
	}
	if f.Scope.Comuni != nil {
		where.WriteString(s.auditScope(f.Scope, &args))
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		where.WriteString(" AND (at < ? OR (at = ? AND id < ?))")
		args = append(args, at, at, id)
	}
	args = append(args, f.Limit+1)
	rows, err := s.query(ctx, "SELECT id, at, actor, action, contact_id, citizen_id, target, detail, comune FROM audit_log"+
		where.String()+" ORDER BY at DESC, id DESC LIMIT ?", args...)
	out, err := Collect(rows, err, func(r rowScanner) (AuditEntry, error) {
		var e AuditEntry
		var at int64
		var contact, citizen, comune sql.NullString
		err := r.Scan(&e.ID, &at, &e.Actor, &e.Action, &contact, &citizen, &e.Target, &e.Detail, &comune)
		e.At, e.ContactID, e.CitizenID, e.Comune = FromMicros(at), nullString(contact), nullString(citizen), comune.String
		return e, err
	})
	if err != nil {
		return nil, "", err
	}
	if out == nil {
		out = []AuditEntry{} // an empty page is [], not null
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = encodeCursor(Micros(last.At), last.ID)
	}
	return out, next, nil
}

// auditScope is the condition that keeps a scoped caller to entries of their comuni.
func (s *Store) auditScope(sc Scope, args *[]any) string {
	if len(sc.Comuni) == 0 {
		return " AND 1 = 0"
	}
	in := func() string {
		ph := make([]string, len(sc.Comuni))
		for i, cm := range sc.Comuni {
			ph[i] = "?"
			*args = append(*args, cm)
		}
		return "(" + strings.Join(ph, ", ") + ")"
	}
	var b strings.Builder
	b.WriteString(" AND ((contact_id IS NOT NULL AND contact_id IN (SELECT id FROM contacts WHERE comune IN " + in() + "))")
	b.WriteString(" OR (contact_id IS NULL AND citizen_id IS NOT NULL AND citizen_id IN (SELECT id FROM citizens WHERE comune IN " + in() + "))")
	find := "instr"
	if s.dialect == Postgres {
		find = "strpos"
	}
	sharingUsers := func() string {
		overlap := make([]string, len(sc.Comuni))
		for i, cm := range sc.Comuni {
			overlap[i] = find + "(',' || comuni || ',', ?) > 0"
			*args = append(*args, ","+cm+",")
		}
		return "(SELECT username FROM users WHERE " + strings.Join(overlap, " OR ") + ")"
	}
	aboutUsers := "'" + strings.Join(userAdministration, "', '") + "'"
	b.WriteString(" OR (contact_id IS NULL AND citizen_id IS NULL AND comune IS NOT NULL AND comune IN " + in() + ")")
	b.WriteString(" OR (contact_id IS NULL AND citizen_id IS NULL AND comune IS NULL AND action IN (" + aboutUsers + ") AND target IN " + sharingUsers() + ")")
	b.WriteString(" OR (contact_id IS NULL AND citizen_id IS NULL AND comune IS NULL AND action NOT IN (" + aboutUsers + ") AND actor IN " + sharingUsers() + "))")
	return b.String()
}

// userAdministration are the actions about a user, whose entry names that user's username as
// its target: a scoped reader sees them when that user shares a comune with them.
var userAdministration = []string{AuditUserCreate, AuditUserUpdate, AuditUserDisable, AuditUserEnable, AuditPasswordReset,
	AuditPasswordChange, AuditPasswordLink, AuditTokenCreate, AuditTokenRevoke, AuditPasswordChangeFailed}
