// Package envelope makes and checks the signed records that are the unit of
// replication in the federation: an origin serializes a Record once, signs
// those bytes with its Ed25519 key, and every node stores and forwards the
// pair unchanged. storage calls Seal when the node writes its own records;
// replication verifies everything that comes from peers, a page at a time
// with a Verifier. The package holds no state and touches no database.
//
// Signatures are standard Ed25519 (RFC 8032): deterministic, the same bytes
// crypto/ed25519 makes. They are made and checked with curve25519-voi's
// curve arithmetic, which signs in two thirds of the standard library's
// time. A Verifier checks a page's signatures, all by one key, as one
// batch with the key's term once (verifyBatch): about a fifth of the
// standard library's time per signature (10 µs against 48 for a record of
// 1 KB), a third of curve25519-voi's own single check. Each signature
// travels with the x coordinate of its point R (SignedRecord.r_x), which
// the signer computes as it compresses R (signRX) and a receiver checks in
// a few multiplications, where decompressing R takes a square root (a
// third of the check); an x missing or wrong is computed, and
// changes no verdict. (curve25519-voi is forked for it: see
// third_party/curve25519-voi/FORK.md.)
//
// Verification uses the cofactored equation of RFC 8032, the one under
// which checking a batch and checking each signature alone always agree,
// and requires canonical encodings of the key and of R (the rules of
// curve25519-voi's VerifyOptionsDefault). It refuses keys of small order,
// with which anyone could sign anything: a record from such an origin
// could be forged by any relay. These rules differ from crypto/ed25519's
// only on signatures no honest signer makes (a small-order component added
// to R on purpose); every node of protocol 2 checks by them, so a record
// one node accepts, every node accepts. Nodes of protocol 1 checked by
// crypto/ed25519's: the two do not federate (see sync.ProtocolVersion).
package envelope

import (
	"cmp"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/oasisprotocol/curve25519-voi/curve"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/protodecode"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// signingContext separates record signatures from anything else the same
// key might ever sign.
const signingContext = "ogpnode record v1\x00"

// ErrBadSignature is returned by Open when a signature does not verify.
var ErrBadSignature = errors.New("envelope: bad signature")

// Seal serializes rec and signs it with key. The returned SignedRecord holds
// the exact bytes signed, and the x coordinate of the signature's R.
func Seal(rec *federationv1.Record, key ed25519.PrivateKey) (*federationv1.SignedRecord, error) {
	if err := check(rec); err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("envelope: marshal record %s/%s: %w", rec.GetOrigin(), rec.GetId(), err)
	}
	sig, rx := signRX(key, signedMessage(nil, b))
	return &federationv1.SignedRecord{Record: b, Signature: sig, RX: rx}, nil
}

// SealResource is Seal for a record whose resource is m: m is marshalled
// straight into the record's bytes, which are laid out after the signing
// context in the buffer the signature is computed over, so that a record is
// written once rather than copied twice. rec.Resource must be empty; it is
// set to m's bytes within the record. The result is byte for byte what Seal
// gives for rec with Resource set to m deterministically marshalled: the
// resource is the record's last field. rec must be a live record (Seal
// seals tombstones, and the harvest mark some carry) and hold no unknown
// fields, which Seal would write after the resource.
//
// The bytes are written in buf's spare capacity when they fit, else in a
// new buffer with room for more; rest is what is left after them, for the
// next call. buf is never grown in place: the records already in it keep
// their bytes. A caller that seals many records can so give them one
// buffer, and reuse its memory once nobody reads them (fresh memory for
// each record cost a tenth of sealing it); a nil buf is fine.
func SealResource(buf []byte, rec *federationv1.Record, m proto.Message, key ed25519.PrivateKey) (sr *federationv1.SignedRecord, rest []byte, err error) {
	switch {
	case len(rec.GetResource()) != 0:
		return nil, buf, fmt.Errorf("envelope: record %s/%s has its resource already", rec.GetOrigin(), rec.GetId())
	case rec.GetDeleted():
		return nil, buf, fmt.Errorf("envelope: record %s/%s is a tombstone: seal it with Seal", rec.GetOrigin(), rec.GetId())
	case len(rec.ProtoReflect().GetUnknown()) != 0:
		return nil, buf, fmt.Errorf("envelope: record %s/%s has unknown fields", rec.GetOrigin(), rec.GetId())
	}
	opts := proto.MarshalOptions{Deterministic: true}
	size := opts.Size(m)
	header := opts.Size(rec)
	// Marshalling would work the sizes out again, a second walk of the
	// resource; nothing changes them in between.
	opts.UseCachedSize = true
	need := len(signingContext) + header + protowire.SizeTag(resourceField) + protowire.SizeVarint(uint64(size)) + size
	if cap(buf)-len(buf) < need {
		buf = make([]byte, 0, max(need, cap(buf)))
	}
	msg := append(buf[len(buf):len(buf):len(buf)+need], signingContext...)
	msg, err = opts.MarshalAppend(msg, rec)
	if err != nil {
		return nil, buf, fmt.Errorf("envelope: marshal record %s/%s: %w", rec.GetOrigin(), rec.GetId(), err)
	}
	msg = protowire.AppendTag(msg, resourceField, protowire.BytesType)
	msg = protowire.AppendVarint(msg, uint64(size))
	start := len(msg)
	if msg, err = opts.MarshalAppend(msg, m); err != nil {
		return nil, buf, fmt.Errorf("envelope: marshal resource of %s/%s: %w", rec.GetOrigin(), rec.GetId(), err)
	}
	if len(msg) != need || len(msg)-start != size {
		return nil, buf, fmt.Errorf("envelope: resource of %s/%s: %d bytes marshalled, %d expected", rec.GetOrigin(), rec.GetId(), len(msg)-start, size)
	}
	rec.Resource = msg[start:len(msg):len(msg)]
	if err := check(rec); err != nil {
		rec.Resource = nil
		return nil, buf, err
	}
	sig, rx := signRX(key, msg)
	return &federationv1.SignedRecord{
		Record:    msg[len(signingContext):len(msg):len(msg)],
		Signature: sig,
		RX:        rx,
	}, buf[:len(buf)+need], nil
}

// resourceField is the number of Record.resource, the last field.
const resourceField = 6

// Sign returns the signature of already serialized record bytes.
func Sign(key ed25519.PrivateKey, record []byte) []byte {
	sig, _ := signRX(key, signedMessage(nil, record))
	return sig
}

// rules are the verification rules of every node (see the package doc).
var rules = &voi.Options{Verify: voi.VerifyOptionsDefault}

// Verify reports whether sig is the signature of record by pub.
func Verify(pub ed25519.PublicKey, record, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), signedMessage(nil, record), sig, rules)
}

// memberContext separates the signatures of a member's gossip metadata
// from records', and from anything else the key might ever sign.
const memberContext = "ogpnode member v1\x00"

// SignMember returns the signature by key of a member's description
// (sync's gossip metadata, in its signed form): by it a member proves it
// holds the key of the origin it claims, which the metadata only names.
func SignMember(key ed25519.PrivateKey, description []byte) []byte {
	return voi.Sign(voi.PrivateKey(key), append([]byte(memberContext), description...))
}

// VerifyMember reports whether sig is the signature of a member's
// description by pub, under the rules of records' signatures (a key of
// small order verifies nothing).
func VerifyMember(pub ed25519.PublicKey, description, sig []byte) bool {
	if len(sig) != ed25519.SignatureSize || CheckPublicKey(pub) != nil {
		return false
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), append([]byte(memberContext), description...), sig, rules)
}

// A Verifier checks signatures by one public key: the key is decoded and
// its multiples precomputed once, for all the records of a page.
type Verifier struct {
	key *voi.ExpandedPublicKey
	// pub and a are the key as bytes and as a point, for verifyBatch.
	pub []byte
	a   curve.EdwardsPoint
}

// NewVerifier returns a Verifier for pub, or the error of CheckPublicKey.
func NewVerifier(pub ed25519.PublicKey) (*Verifier, error) {
	a, err := publicKeyPoint(pub)
	if err != nil {
		return nil, err
	}
	k, err := voi.NewExpandedPublicKey(voi.PublicKey(pub))
	if err != nil {
		return nil, fmt.Errorf("envelope: not an Ed25519 public key: %w", err)
	}
	return &Verifier{key: k, pub: slices.Clone(pub), a: a}, nil
}

// CheckPublicKey says why pub cannot be an origin's key, if it cannot: it
// is no Ed25519 public key, or not in canonical form, or of small order
// (a key that verifies forged signatures). Such a key verifies nothing
// under these rules; refusing it at once gives the reason.
func CheckPublicKey(pub ed25519.PublicKey) error {
	_, err := publicKeyPoint(pub)
	return err
}

// publicKeyPoint is the point pub encodes, or the error of CheckPublicKey.
func publicKeyPoint(pub ed25519.PublicKey) (curve.EdwardsPoint, error) {
	var a curve.EdwardsPoint
	if len(pub) != ed25519.PublicKeySize {
		return a, fmt.Errorf("envelope: a public key has %d bytes, not %d", len(pub), ed25519.PublicKeySize)
	}
	var y curve.CompressedEdwardsY
	if _, err := y.SetBytes(pub); err != nil {
		return a, fmt.Errorf("envelope: not an Ed25519 public key: %w", err)
	}
	if _, err := a.SetCompressedY(&y); err != nil {
		return a, fmt.Errorf("envelope: not an Ed25519 public key: %w", err)
	}
	if !y.IsCanonicalVartime() {
		return a, errors.New("envelope: a public key not in canonical form")
	}
	if a.IsSmallOrder() {
		return a, errors.New("envelope: a public key of small order, with which anyone can sign anything")
	}
	return a, nil
}

// Verify reports whether sig is the signature of record.
func (v *Verifier) Verify(record, sig []byte) bool {
	if len(sig) != ed25519.SignatureSize {
		return false
	}
	return voi.VerifyExpandedWithOptions(v.key, signedMessage(nil, record), sig, rules)
}

// VerifyAll checks that sigs[i] is the signature of records[i] for every i,
// as a batch (see verifyBatch), and returns the index of the first that is
// not, or -1 if all are. A batch costs about a third of checking each
// signature alone; when it fails, the signatures are checked one by one
// to tell which.
//
// rxs[i] is the x coordinate of the point R of sigs[i] as a peer sent it
// (SignedRecord.r_x), or nil: one that checks spares the square root that
// decompressing R takes, and one missing or wrong costs that root. When
// all verify, each rxs[i] is set to the x checked or computed, for the
// record to be kept and served with.
func (v *Verifier) VerifyAll(records, sigs, rxs [][]byte) int {
	if len(records) != len(sigs) || len(records) != len(rxs) {
		panic("envelope: VerifyAll needs as many signatures and x coordinates as records")
	}
	if len(records) >= minBatch && v.verifyBatch(records, sigs, rxs) {
		return -1
	}
	return v.firstBad(records, sigs, rxs)
}

// minBatch is the smallest batch VerifyAll verifies as one: a batch has a
// fixed cost (random coefficients, a multiscalar multiplication) that a
// few signatures, such as the one record a write announces, do not repay.
const minBatch = 4

// firstBad checks the signatures one by one: the index of the first that
// fails, or -1. (Single and batch verification agree under these rules, so
// after a failed batch one of them fails; if none did, each signature
// alone is what counts.)
func (v *Verifier) firstBad(records, sigs, rxs [][]byte) int {
	for i := range records {
		if !v.Verify(records[i], sigs[i]) {
			return i
		}
		rxs[i] = checkedRX(sigs[i], rxs[i]) // R is a point: Verify decoded it
	}
	return -1
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
	return parse(record, proto.Unmarshal)
}

// ParseAliasing is Parse, but the record's strings and resource are parts
// of record, not copies (protodecode.UnmarshalAliasing): for a record that
// lives no longer than its bytes, and of which nothing keeps a part. A
// node checks every record of a page it receives this way.
func ParseAliasing(record []byte) (*federationv1.Record, error) {
	return parse(record, protodecode.UnmarshalAliasing)
}

func parse(record []byte, unmarshal func([]byte, proto.Message) error) (*federationv1.Record, error) {
	rec := &federationv1.Record{}
	if err := unmarshal(record, rec); err != nil {
		return nil, fmt.Errorf("envelope: malformed record: %w", err)
	}
	if err := check(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// signedMessage appends to buf the bytes a signature of record covers.
func signedMessage(buf, record []byte) []byte {
	buf = slices.Grow(buf, len(signingContext)+len(record))
	return append(append(buf, signingContext...), record...)
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
	return CountryCode(code)
}

// UseCaseCountry is the country of a use case's organisation as nodes
// group, count and find it: its code (CountryCode: "UK" is "GB"), or, for
// a code that names no country (a peer's records are not validated), the
// code as written, in capitals.
func UseCaseCountry(code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	return cmp.Or(CountryCode(code), code)
}

// CountryCode is the ISO 3166-1 alpha-2 code, in capitals, that code (in
// any case) names: itself, or the code that replaced it ("UK" gives "GB",
// "ZR" gives "CD"), so that one country is never two; "" for a code that
// names no country: a group ("EU"), a code reserved for another use
// ("UN", "EA"), or one withdrawn with no one successor ("SU", "YU"). XK,
// the code of Kosovo in wide use, is one.
func CountryCode(code string) string {
	if len(code) != 2 {
		return ""
	}
	r, err := language.ParseRegion(code)
	if err != nil || !r.IsCountry() {
		return ""
	}
	// Reserved codes have no numeric code, or no alpha-3 one.
	if r = r.Canonicalize(); r.M49() == 0 || r.ISO3() == "ZZZ" {
		return ""
	}
	switch c := r.String(); c {
	case "AN", "CS", "NT", "SU", "YU": // withdrawn, split between several
		return ""
	default:
		return c
	}
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

// IDFrom makes an id from a name, of at most max bytes (up to 63): its
// letters and digits in lowercase ASCII ("Démocratie Ouverte!" gives
// "democratie-ouverte", "Straße" "strasse", "ﬁnances" "finances"), any
// other run of characters as one hyphen, "t-" first if it would start
// with a digit. It is "" for a name of no such letter or digit.
func IDFrom(name string, max int) string {
	max = min(max, 63)
	var b strings.Builder
	hyphen := false
	add := func(r rune) {
		switch {
		case b.Len() == 0 && isDigit(byte(r)):
			b.WriteString("t-") // what came before, if anything, is its hyphen
		case hyphen && b.Len() > 0:
			b.WriteByte('-')
		}
		hyphen = false
		b.WriteRune(r)
	}
	// NFKD splits letters with accents, ligatures and compatibility
	// forms (ǅ, ﬁ) into ASCII letters and marks; a few letters have no
	// such decomposition and are spelled out.
	for _, r := range norm.NFKD.String(name) {
		// Lowercased once decomposed: NFKD gives capitals too (𝐃, ℍ, ㎒).
		r = unicode.ToLower(r)
		switch {
		case b.Len() >= max:
		case unicode.Is(unicode.Mn, r):
		case r < unicode.MaxASCII && (isLower(byte(r)) || isDigit(byte(r))):
			add(r)
		case spelledOut(r) != "":
			for _, c := range spelledOut(r) {
				add(c)
			}
		default:
			hyphen = true
		}
	}
	return strings.TrimRight(b.String()[:min(b.Len(), max)], "-")
}

// spelledOut is a lowercase Latin letter that NFKD leaves whole, in
// ASCII ("" for any other rune).
func spelledOut(r rune) string {
	switch r {
	case 'ß':
		return "ss"
	case 'æ':
		return "ae"
	case 'œ':
		return "oe"
	case 'þ':
		return "th"
	case 'ŋ':
		return "ng"
	case 'ø':
		return "o"
	case 'đ', 'ð':
		return "d"
	case 'ł':
		return "l"
	case 'ı':
		return "i"
	case 'ħ':
		return "h"
	case 'ŧ':
		return "t"
	}
	return ""
}
