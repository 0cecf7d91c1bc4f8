// Package envelope makes and checks the signed records that are the unit of
// replication in the federation: an origin serializes a Record once, signs
// those bytes with its Ed25519 key, and every node stores and forwards the
// pair unchanged. storage calls Seal when the node writes its own records;
// replication calls Open on everything that comes from peers. The package
// holds no state and touches no database.
package envelope

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"golang.org/x/text/language"
	"google.golang.org/protobuf/proto"
)

// signingContext separates record signatures from anything else the same
// key might ever sign.
const signingContext = "ogpnode record v1\x00"

// ErrBadSignature is returned by Open when a signature does not verify.
var ErrBadSignature = errors.New("envelope: bad signature")

// Seal serializes rec and signs it with key. The returned SignedRecord holds
// the exact bytes signed.
func Seal(rec *federationv1.Record, key ed25519.PrivateKey) (*federationv1.SignedRecord, error) {
	if err := check(rec); err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("envelope: marshal record %s/%s: %w", rec.GetOrigin(), rec.GetId(), err)
	}
	return &federationv1.SignedRecord{Record: b, Signature: Sign(key, b)}, nil
}

// Sign returns the signature of already serialized record bytes.
func Sign(key ed25519.PrivateKey, record []byte) []byte {
	return ed25519.Sign(key, signedMessage(record))
}

// Verify reports whether sig is the signature of record by pub.
func Verify(pub ed25519.PublicKey, record, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(pub, signedMessage(record), sig)
}

// Open parses a signed record, checks that it is well formed and verifies
// its signature against pub.
func Open(sr *federationv1.SignedRecord, pub ed25519.PublicKey) (*federationv1.Record, error) {
	rec, err := Parse(sr.GetRecord())
	if err != nil {
		return nil, err
	}
	if !Verify(pub, sr.GetRecord(), sr.GetSignature()) {
		return nil, fmt.Errorf("%w: record %s/%s seq %d", ErrBadSignature, rec.GetOrigin(), rec.GetId(), rec.GetSeq())
	}
	return rec, nil
}

// Parse decodes record bytes and checks that the record is well formed. It
// does not check any signature.
func Parse(record []byte) (*federationv1.Record, error) {
	rec := &federationv1.Record{}
	if err := proto.Unmarshal(record, rec); err != nil {
		return nil, fmt.Errorf("envelope: malformed record: %w", err)
	}
	if err := check(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

func signedMessage(record []byte) []byte {
	msg := make([]byte, 0, len(signingContext)+len(record))
	msg = append(msg, signingContext...)
	return append(msg, record...)
}

// check enforces what every record must satisfy, whoever wrote it.
func check(rec *federationv1.Record) error {
	switch {
	case !ValidOrigin(rec.GetOrigin()):
		return fmt.Errorf("envelope: invalid origin %q", rec.GetOrigin())
	case rec.GetKind() != federationv1.RecordKind_RECORD_KIND_TOOL && rec.GetKind() != federationv1.RecordKind_RECORD_KIND_USE_CASE:
		return fmt.Errorf("envelope: record %s/%s: unknown kind %v", rec.GetOrigin(), rec.GetId(), rec.GetKind())
	case !ValidID(rec.GetId()):
		return fmt.Errorf("envelope: record of %s: invalid id %q", rec.GetOrigin(), rec.GetId())
	case rec.GetSeq() < 1:
		return fmt.Errorf("envelope: record %s/%s: seq %d is not positive", rec.GetOrigin(), rec.GetId(), rec.GetSeq())
	case !rec.GetDeleted() && len(rec.GetResource()) == 0:
		return fmt.Errorf("envelope: record %s/%s: no resource", rec.GetOrigin(), rec.GetId())
	}
	return nil
}

// ValidOrigin reports whether s is an origin name: a lowercase two-letter
// country code with optional suffixes of lowercase letters and digits, each
// after a hyphen ("fr", "fr-paris"), or "local" for a node not yet given
// one. At most 32 characters.
func ValidOrigin(s string) bool {
	if s == "local" {
		return true
	}
	if len(s) < 2 || len(s) > 32 || !isLower(s[0]) || !isLower(s[1]) {
		return false
	}
	if len(s) == 2 {
		return true
	}
	if s[2] != '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 3; i < len(s); i++ {
		c := s[i]
		switch {
		case isLower(c) || isDigit(c):
		case c == '-' && s[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// CountryOfOrigin is the ISO 3166-1 code of the country an origin is
// named after, in capitals ("fr-paris" gives "FR"), or "" for an origin
// that is not named after one ("local", or a first part that is no
// country's code). Adoption is grouped by it, and the pages show it beside
// an origin.
func CountryOfOrigin(origin string) string {
	code, _, _ := strings.Cut(origin, "-")
	if len(code) != 2 {
		return ""
	}
	r, err := language.ParseRegion(code)
	if err != nil || !r.IsCountry() {
		return ""
	}
	return strings.ToUpper(code)
}

// ValidID reports whether s is a resource id: 1 to 63 lowercase letters,
// digits and hyphens, starting with a letter and not ending with a hyphen
// (AIP-122).
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 63 || !isLower(s[0]) || s[len(s)-1] == '-' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLower(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
