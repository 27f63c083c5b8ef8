package channels

import "time"

// IdentityKind is the kind of address a citizen is known by.
type IdentityKind string

const (
	IdentityPhone IdentityKind = "phone"
	IdentityEmail IdentityKind = "email"
	IdentityFax   IdentityKind = "fax"
	// IdentityFiscalCode is a codice fiscale (16 upper-case characters, check verified): the
	// address App IO reaches a citizen at.
	IdentityFiscalCode IdentityKind = "fiscal_code"
)

// Identity is one normalized address of a citizen: E.164 for phone and fax, lower-case email.
type Identity struct {
	Kind  IdentityKind `json:"kind"`
	Value string       `json:"value"`
}

// Citizen is one person across every channel they used.
type Citizen struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Comune     *string    `json:"comune"`
	Phone      *string    `json:"phone"`
	Email      *string    `json:"email"`
	Fax        *string    `json:"fax"`
	FiscalCode *string    `json:"fiscal_code"`
	Identities []Identity `json:"identities"`
	Contacts   []Contact  `json:"contacts"`
	// ErasedAt is when the citizen's personal data was erased (on request or by retention).
	ErasedAt *time.Time `json:"erased_at,omitempty"`
}

// IdentityFor is the identity a channel's sender address makes.
func IdentityFor(k Kind, address string) Identity {
	switch k {
	case Email, PEC:
		return Identity{Kind: IdentityEmail, Value: address}
	case Fax:
		return Identity{Kind: IdentityFax, Value: address}
	default:
		return Identity{Kind: IdentityPhone, Value: address}
	}
}
