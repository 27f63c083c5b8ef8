package pec

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/smallstep/pkcs7"
)

// SignatureStatus is what the check of the provider's signature found.
type SignatureStatus string

const (
	// SignatureValid: the signature matches the content and its certificate chains to a
	// configured root.
	SignatureValid SignatureStatus = "valid"
	// SignatureUntrusted: the signature matches the content, but no configured root vouches
	// for its certificate (none configured, or another provider's chain).
	SignatureUntrusted SignatureStatus = "untrusted"
	// SignatureInvalid: the signature does not match the content, or cannot be read.
	SignatureInvalid SignatureStatus = "invalid"
	// SignatureAbsent: the message carries no smime.p7s.
	SignatureAbsent SignatureStatus = "absent"
)

// Signature is the verdict on an envelope's S/MIME signature.
type Signature struct {
	Status SignatureStatus
	// Signer names the signing certificate (its subject) when it could be read.
	Signer string
	// Detail says why a signature is not valid.
	Detail string
}

// verify checks a detached PKCS#7 signature over content (canonicalized to CRLF), and its
// chain against roots when there are any.
func verify(content, p7s []byte, roots *x509.CertPool) Signature {
	p7, err := pkcs7.Parse(p7s)
	if err != nil {
		return Signature{Status: SignatureInvalid, Detail: "smime.p7s: " + err.Error()}
	}
	sig := Signature{}
	if c := p7.GetOnlySigner(); c != nil {
		sig.Signer = c.Subject.String()
	}
	p7.Content = canonical(content)
	// The usual case, a good signature from a trusted provider, costs one check; only a
	// failure is checked again without the chain, to tell untrusted from invalid.
	detail := "no trusted roots configured"
	if roots != nil {
		err := p7.VerifyWithChain(roots)
		if err == nil {
			sig.Status = SignatureValid
			return sig
		}
		detail = err.Error()
	}
	if err := p7.Verify(); err != nil {
		sig.Status, sig.Detail = SignatureInvalid, err.Error()
		return sig
	}
	sig.Status, sig.Detail = SignatureUntrusted, detail
	return sig
}

// LoadRoots reads a PEM file of trusted root certificates (the providers' CAs, as published
// in AgID's list of PEC providers).
func LoadRoots(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pec: trusted roots: %w", err)
	}
	pool := x509.NewCertPool()
	n := 0
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pec: trusted roots %s: certificate %d: %w", path, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, errors.New("pec: trusted roots " + path + ": no PEM certificate in the file")
	}
	return pool, nil
}
