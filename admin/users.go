package admin

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sportello/sportello/config"
	"github.com/sportello/sportello/store"
	"github.com/sportello/sportello/web/auth"
)

// NewUser is a user to create. An empty Password makes one, returned once.
type NewUser struct {
	Username   string   `json:"username"`
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Comuni     []string `json:"comuni"`
	Categories []string `json:"categories"`
	Capacity   int      `json:"capacity"`
	Phone      string   `json:"phone"`
	Password   string   `json:"password"`
}

// Patch is an edit of a user: nil fields stay as they are.
type Patch struct {
	Name       *string   `json:"name"`
	Role       *string   `json:"role"`
	Comuni     *[]string `json:"comuni"`
	Categories *[]string `json:"categories"`
	Capacity   *int      `json:"capacity"`
	Phone      *string   `json:"phone"`
	Disabled   *bool     `json:"disabled"`
	// Password sets a password the caller chose (the policy applies); the user's sessions end.
	Password *string `json:"password"`
	// Username cannot change: present, it must be the user's own.
	Username *string `json:"username"`
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{1,63}$`)

// MaxCapacity bounds the contacts one operator may hold at once.
const MaxCapacity = 100

// generatedPasswordLength is the length of a password made for a user (about 119 bits).
const generatedPasswordLength = 20

// Users lists the users actor may see.
func (s *Service) Users(ctx context.Context, actor store.User) ([]store.UserRecord, error) {
	if !actor.AtLeast(store.RoleSupervisor) {
		return nil, forbidden("managing users needs the supervisor role")
	}
	all, err := s.o.Store.UserRecords(ctx)
	if err != nil {
		return nil, err
	}
	out := []store.UserRecord{}
	for _, u := range all {
		if reaches(actor, u.User) {
			out = append(out, u)
		}
	}
	return out, nil
}

// User reads one user actor may see (NotFound otherwise).
func (s *Service) User(ctx context.Context, actor store.User, username string) (store.UserRecord, error) {
	if !actor.AtLeast(store.RoleSupervisor) {
		return store.UserRecord{}, forbidden("managing users needs the supervisor role")
	}
	u, err := s.o.Store.UserRecordOf(ctx, username)
	if errors.Is(err, store.ErrNotFound) || err == nil && !reaches(actor, u.User) {
		return store.UserRecord{}, notFound("user " + strconv.Quote(username))
	}
	return u, err
}

// target reads a user actor may change: out of reach is NotFound, a stronger role Forbidden.
func (s *Service) target(ctx context.Context, actor store.User, username string) (store.UserRecord, error) {
	u, err := s.User(ctx, actor, username)
	if err != nil {
		return u, err
	}
	if rank(u.Role) > rank(actor.Role) {
		return u, forbidden("%s is %s: only a user of that role or above may change them", username, u.Role)
	}
	return u, nil
}

// checkGrant refuses a role, comuni or skills actor may not give.
func (s *Service) checkGrant(actor store.User, role *string, comuni, categories *[]string) error {
	if role != nil {
		if !store.ValidRole(*role) {
			return invalid("invalid_role", "role must be operator, supervisor or admin, not %q", *role)
		}
		if rank(*role) > rank(actor.Role) {
			return forbidden("you cannot give the %s role", *role)
		}
	}
	if comuni != nil {
		for _, c := range *comuni {
			if _, ok := s.o.Config.ComuneByID(c); !ok {
				return invalid("unknown_comune", "unknown comune %q", c)
			}
		}
		if len(actor.Comuni) > 0 && (len(*comuni) == 0 || !inComuni(actor.Comuni, *comuni)) {
			return forbidden("you can give only your own comuni (%s)", strings.Join(actor.Comuni, ", "))
		}
	}
	if categories != nil {
		for _, c := range *categories {
			if !slices.ContainsFunc(s.o.Config.Categories, func(k config.Category) bool { return k.ID == c }) {
				return invalid("unknown_category", "unknown category %q", c)
			}
		}
	}
	return nil
}

// cleanName refuses a display name with control characters or over 200 characters.
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if len([]rune(name)) > 200 {
		return "", invalid("invalid_name", "the name is longer than 200 characters")
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", invalid("invalid_name", "the name has control characters")
	}
	return name, nil
}

func checkCapacity(n int) error {
	if n < 1 || n > MaxCapacity {
		return invalid("invalid_capacity", "capacity must be between 1 and %d", MaxCapacity)
	}
	return nil
}

func normalizePhone(p string) (string, error) {
	n, err := store.NormalizeOperatorPhone(p)
	if err != nil {
		return "", invalid("invalid_phone", "phone %q is not an E.164 number or a sip: URI", p)
	}
	return n, nil
}

// dedupe keeps the first of each value, without blanks.
func dedupe(in []string) []string {
	out := []string{}
	for _, v := range in {
		v = strings.TrimSpace(v)
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// CreateUser adds a user within actor's reach and returns it with its password when one was
// made (shown once; "" when the caller chose it).
func (s *Service) CreateUser(ctx context.Context, actor store.User, n NewUser) (store.UserRecord, string, error) {
	if !actor.AtLeast(store.RoleSupervisor) {
		return store.UserRecord{}, "", forbidden("managing users needs the supervisor role")
	}
	n.Username = strings.TrimSpace(n.Username)
	if !usernamePattern.MatchString(n.Username) {
		return store.UserRecord{}, "", invalid("invalid_username", "a username is 2 to 64 lower-case letters, digits, dots, dashes, underscores or @, starting with a letter or digit")
	}
	if n.Role == "" {
		n.Role = store.RoleOperator
	}
	n.Comuni, n.Categories = dedupe(n.Comuni), dedupe(n.Categories)
	if err := s.checkGrant(actor, &n.Role, &n.Comuni, &n.Categories); err != nil {
		return store.UserRecord{}, "", err
	}
	name, err := cleanName(n.Name)
	if err != nil {
		return store.UserRecord{}, "", err
	}
	if n.Capacity == 0 {
		n.Capacity = 5
	}
	if err := checkCapacity(n.Capacity); err != nil {
		return store.UserRecord{}, "", err
	}
	phone, err := normalizePhone(n.Phone)
	if err != nil {
		return store.UserRecord{}, "", err
	}
	shown := ""
	if n.Password == "" {
		n.Password = store.RandomToken("")[:generatedPasswordLength]
		shown = n.Password
	} else if err := policy(n.Password, n.Username); err != nil {
		return store.UserRecord{}, "", err
	}
	hash, err := auth.HashPassword(n.Password)
	if err != nil {
		return store.UserRecord{}, "", err
	}
	u := store.User{Username: n.Username, Name: name, Role: n.Role, PasswordHash: hash, Comuni: n.Comuni,
		Categories: n.Categories, Capacity: n.Capacity}
	_, err = s.o.Store.CreateUserWith(ctx, u, phone, s.entry(actor, store.AuditUserCreate, n.Username, describe(map[string]string{
		"role": n.Role, "comuni": strings.Join(n.Comuni, ","), "categories": strings.Join(n.Categories, ","),
		"capacity": strconv.Itoa(n.Capacity), "phone": phone, "name": name})))
	if errors.Is(err, store.ErrConflict) {
		return store.UserRecord{}, "", &Error{Kind: Conflict, Code: "user_exists", Message: "user " + strconv.Quote(n.Username) + " already exists"}
	}
	if err != nil {
		return store.UserRecord{}, "", err
	}
	rec, err := s.o.Store.UserRecordOf(ctx, n.Username)
	return rec, shown, err
}

// policy turns a refused new password into an Invalid error with the policy's code.
func policy(password, username string) error {
	var pe *auth.PolicyError
	if err := auth.CheckNewPassword(password, username); errors.As(err, &pe) {
		return &Error{Kind: Invalid, Code: "password_" + pe.Code, Message: pe.Error()}
	} else if err != nil {
		return err
	}
	return nil
}

// describe writes an audit detail: key=value pairs in a fixed order, the empty ones left out.
func describe(kv map[string]string) string {
	var parts []string
	for _, k := range []string{"name", "role", "comuni", "categories", "capacity", "phone", "disabled", "lang", "default_presence", "comune", "sessions_ended"} {
		if v, ok := kv[k]; ok {
			parts = append(parts, k+"="+strconv.Quote(v))
		}
	}
	return strings.Join(parts, " ")
}

// UpdateUser changes a user within actor's reach. Disabling ends every session and token of
// the user; changing their role, comuni or categories ends their open event streams (they
// reconnect with the new scope); actors cannot disable themselves nor change their own role
// or comuni.
func (s *Service) UpdateUser(ctx context.Context, actor store.User, username string, p Patch) (store.UserRecord, error) {
	u, err := s.target(ctx, actor, username)
	if err != nil {
		return u, err
	}
	if p.Username != nil && *p.Username != u.Username {
		return u, invalid("username_fixed", "a username cannot change")
	}
	self := u.ID == actor.ID
	if self && (p.Role != nil && *p.Role != u.Role || p.Comuni != nil || p.Disabled != nil && *p.Disabled || p.Password != nil) {
		return u, forbidden("you cannot change your own role or comuni, nor disable yourself, nor set your password here (your account's password change asks for the current one)")
	}
	if p.Comuni != nil {
		c := dedupe(*p.Comuni)
		p.Comuni = &c
	}
	if p.Categories != nil {
		c := dedupe(*p.Categories)
		p.Categories = &c
	}
	if err := s.checkGrant(actor, p.Role, p.Comuni, p.Categories); err != nil {
		return u, err
	}
	ch := store.UserChange{Role: p.Role, Comuni: p.Comuni, Categories: p.Categories, Capacity: p.Capacity}
	detail := map[string]string{}
	if p.Name != nil {
		name, err := cleanName(*p.Name)
		if err != nil {
			return u, err
		}
		ch.Name, detail["name"] = &name, name
	}
	if p.Role != nil {
		detail["role"] = *p.Role
	}
	if p.Comuni != nil {
		detail["comuni"] = strings.Join(*p.Comuni, ",")
	}
	if p.Categories != nil {
		detail["categories"] = strings.Join(*p.Categories, ",")
	}
	if p.Capacity != nil {
		if err := checkCapacity(*p.Capacity); err != nil {
			return u, err
		}
		detail["capacity"] = strconv.Itoa(*p.Capacity)
	}
	if p.Phone != nil {
		phone, err := normalizePhone(*p.Phone)
		if err != nil {
			return u, err
		}
		ch.Phone, detail["phone"] = &phone, phone
	}
	if !ch.Empty() {
		if err := s.o.Store.UpdateUser(ctx, username, ch, s.entry(actor, store.AuditUserUpdate, username, describe(detail))); err != nil {
			return u, err
		}
		if p.Role != nil || p.Comuni != nil || p.Categories != nil {
			// Open streams render with the role and scope they opened with: they re-check now
			// and end if these changed, rather than at their next periodic re-check.
			s.publishRevoked(ctx, u.ID)
		}
	}
	if p.Password != nil {
		if err := policy(*p.Password, u.Username); err != nil {
			return u, err
		}
		hash, err := auth.HashPassword(*p.Password)
		if err != nil {
			return u, err
		}
		n, err := s.o.Store.ChangePassword(ctx, u.ID, hash, "", s.entry(actor, store.AuditPasswordReset, username, "chosen by "+actor.Username))
		if err != nil {
			return u, err
		}
		if n > 0 {
			s.publishRevoked(ctx, u.ID)
		}
	}
	if p.Disabled != nil && *p.Disabled != u.Disabled {
		if *p.Disabled {
			_, err = s.o.Store.DisableUser(ctx, username, s.entry(actor, store.AuditUserDisable, username, ""))
			if err == nil {
				s.publishRevoked(ctx, u.ID)
			}
		} else {
			_, err = s.o.Store.EnableUser(ctx, username, s.entry(actor, store.AuditUserEnable, username, ""))
		}
		if err != nil {
			return u, err
		}
	}
	return s.o.Store.UserRecordOf(ctx, username)
}

// ResetPassword gives a user within actor's reach a new password, returned once, and ends
// their sessions (their API tokens stay: scripts keep working).
func (s *Service) ResetPassword(ctx context.Context, actor store.User, username string) (string, error) {
	u, err := s.target(ctx, actor, username)
	if err != nil {
		return "", err
	}
	pw := store.RandomToken("")[:generatedPasswordLength]
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return "", err
	}
	n, err := s.o.Store.ChangePassword(ctx, u.ID, hash, "", s.entry(actor, store.AuditPasswordReset, username, ""))
	if err != nil {
		return "", err
	}
	if n > 0 {
		s.publishRevoked(ctx, u.ID)
	}
	return pw, nil
}

// PasswordLinkTTL is how long a set-password link works.
const PasswordLinkTTL = 72 * time.Hour

// PasswordLink makes a one-time link token for a user within actor's reach to set their own
// password (returned once; the page builds the link). Earlier links of theirs end.
func (s *Service) PasswordLink(ctx context.Context, actor store.User, username string) (string, error) {
	u, err := s.target(ctx, actor, username)
	if err != nil {
		return "", err
	}
	if u.Disabled {
		return "", invalid("user_disabled", "%s is disabled: enable them first", username)
	}
	return s.o.Store.CreatePasswordLink(ctx, u.ID, PasswordLinkTTL, s.entry(actor, store.AuditPasswordLink, username, ""))
}

// LinkUser is the user a live set-password link belongs to (NotFound for a used, expired or
// unknown link, or a disabled user).
func (s *Service) LinkUser(ctx context.Context, token string) (store.User, error) {
	u, err := s.o.Store.UserByToken(ctx, token, store.TokenPasswordLink)
	if errors.Is(err, store.ErrNotFound) {
		return u, notFound("link")
	}
	return u, err
}

// SetPasswordByLink sets the password of the link's user (the policy applies) and ends the link
// and every session of theirs.
func (s *Service) SetPasswordByLink(ctx context.Context, token, password string) (store.User, error) {
	u, err := s.LinkUser(ctx, token)
	if err != nil {
		return u, err
	}
	if err := policy(password, u.Username); err != nil {
		return u, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return u, err
	}
	if _, err := s.o.Store.ChangePassword(ctx, u.ID, hash, "", s.entry(u, store.AuditPasswordChange, u.Username, "through a set-password link")); err != nil {
		return u, err
	}
	s.publishRevoked(ctx, u.ID)
	return u, nil
}
