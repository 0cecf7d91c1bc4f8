package envelope

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func testKey(t *testing.T, seed byte) ed25519.PrivateKey {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s)
}

func TestSealOpen(t *testing.T) {
	key := testKey(t, 1)
	rec := &federationv1.Record{Origin: "fr", Kind: federationv1.RecordKind_RECORD_KIND_TOOL, Id: "decidim", Seq: 7, Resource: []byte("x")}
	sr, err := Seal(rec, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(sr, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !proto.Equal(got, rec) {
		t.Errorf("Open gave %v, want %v", got, rec)
	}

	other := testKey(t, 2).Public().(ed25519.PublicKey)
	if _, err := Open(sr, other); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Open with another key: got %v, want ErrBadSignature", err)
	}
	tampered := proto.Clone(sr).(*federationv1.SignedRecord)
	tampered.Record[len(tampered.Record)-1] ^= 1
	if _, err := Open(tampered, key.Public().(ed25519.PublicKey)); err == nil {
		t.Error("Open accepted a tampered record")
	}
}

func TestMalformedRecords(t *testing.T) {
	key := testKey(t, 1)
	for _, tc := range []struct {
		name string
		rec  *federationv1.Record
	}{
		{"bad origin", &federationv1.Record{Origin: "FR", Kind: 1, Id: "a", Seq: 1, Resource: []byte("x")}},
		{"no kind", &federationv1.Record{Origin: "fr", Id: "a", Seq: 1, Resource: []byte("x")}},
		{"bad id", &federationv1.Record{Origin: "fr", Kind: 1, Id: "A b", Seq: 1, Resource: []byte("x")}},
		{"zero seq", &federationv1.Record{Origin: "fr", Kind: 1, Id: "a", Resource: []byte("x")}},
		{"no resource", &federationv1.Record{Origin: "fr", Kind: 1, Id: "a", Seq: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Seal(tc.rec, key); err == nil {
				t.Error("Seal accepted it")
			}
			b, _ := proto.Marshal(tc.rec)
			if _, err := Parse(b); err == nil {
				t.Error("Parse accepted it")
			}
		})
	}
	if _, err := Parse([]byte{0xff, 0xff}); err == nil {
		t.Error("Parse accepted garbage")
	}
}

func TestNames(t *testing.T) {
	for s, want := range map[string]bool{
		"fr": true, "local": true, "fr-paris": true, "de-by2": true, "fr-ile-de-france": true,
		"f": false, "FR": false, "fr-": false, "fr--x": false, "fra": false, "": false, "1r": false,
	} {
		if got := ValidOrigin(s); got != want {
			t.Errorf("ValidOrigin(%q) = %v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]bool{
		"decidim": true, "a": true, "tool-2": true, "a1-b2": true,
		"": false, "2tool": false, "tool-": false, "Tool": false, "to_ol": false, string(make([]byte, 64)): false,
	} {
		if got := ValidID(s); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCountryOfOrigin(t *testing.T) {
	for origin, want := range map[string]string{
		"fr": "FR", "fr-paris": "FR", "de-by2": "DE", "es-catalunya-bcn": "ES",
		"local": "", "": "", "f": "", "fra": "", "zz": "", "zz-test": "", "eu": "", "1r": "",
		// One country is one code: the United Kingdom's is GB.
		"uk": "GB", "uk-london": "GB", "gb": "GB", "xk": "XK",
		"un": "", "su": "", "yu": "", "ea": "",
	} {
		if got := CountryOfOrigin(origin); got != want {
			t.Errorf("CountryOfOrigin(%q) = %q, want %q", origin, got, want)
		}
	}
}

// TestSignaturesAreStandard checks that signatures are those of RFC 8032,
// byte for byte what crypto/ed25519 makes, and that verification agrees
// with crypto/ed25519 on good and damaged signatures: nodes of this version
// and any other Ed25519 implementation understand each other.
func TestSignaturesAreStandard(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		seed := make([]byte, ed25519.SeedSize)
		for j := range seed {
			seed[j] = byte(rng.Uint32())
		}
		key := ed25519.NewKeyFromSeed(seed)
		pub := key.Public().(ed25519.PublicKey)
		record := make([]byte, rng.IntN(3000))
		for j := range record {
			record[j] = byte(rng.Uint32())
		}
		sig := Sign(key, record)
		if want := ed25519.Sign(key, append([]byte(signingContext), record...)); !bytes.Equal(sig, want) {
			t.Fatalf("case %d: Sign gave %x, crypto/ed25519 %x", i, sig, want)
		}
		// Seal's signatures come with the x coordinate of R, which is
		// the one decompressing R gives.
		sealed, rx := signRX(key, signedMessage(nil, record))
		if !bytes.Equal(sealed, sig) || !bytes.Equal(rx, checkedRX(sig, nil)) {
			t.Fatalf("case %d: signRX gave %x with x %x, want %x with %x", i, sealed, rx, sig, checkedRX(sig, nil))
		}
		kept := slices.Clone(rx)
		_ = append(sealed, 0xff) // the caller's to append to: rx is not in its spare room
		if !bytes.Equal(rx, kept) {
			t.Fatalf("case %d: appending to the signature changed the x coordinate", i)
		}
		v, err := NewVerifier(pub)
		if err != nil {
			t.Fatal(err)
		}
		if !Verify(pub, record, sig) || !v.Verify(record, sig) {
			t.Fatalf("case %d: a good signature does not verify", i)
		}
		bad := slices.Clone(sig)
		bad[rng.IntN(len(bad))] ^= 1 << rng.IntN(8)
		std := ed25519.Verify(pub, append([]byte(signingContext), record...), bad)
		if Verify(pub, record, bad) != std || v.Verify(record, bad) != std {
			t.Fatalf("case %d: on a damaged signature, crypto/ed25519 says %v and Verify does not", i, std)
		}
	}
}

// TestNoSecondSignature checks that a signature cannot be rewritten into
// other bytes that verify for the same record: with S + L in place of S
// (the classic malleation of Ed25519), a relay could make a record's
// signature, and so its etag, differ from node to node.
func TestNoSecondSignature(t *testing.T) {
	key := testKey(t, 3)
	pub := key.Public().(ed25519.PublicKey)
	record := []byte("a record")
	sig := Sign(key, record)
	// L, the order of the group, little-endian.
	l := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	malleated := slices.Clone(sig)
	carry := 0
	for i := range 32 {
		sum := int(malleated[32+i]) + int(l[i]) + carry
		malleated[32+i], carry = byte(sum), sum>>8
	}
	le := func(b []byte) *big.Int { // little-endian bytes as a number
		r := slices.Clone(b)
		slices.Reverse(r)
		return new(big.Int).SetBytes(r)
	}
	if sPrime, s := le(malleated[32:]), le(sig[32:]); new(big.Int).Sub(sPrime, s).Cmp(le(l)) != 0 {
		t.Fatalf("the malleated S is not S + L")
	}
	v, _ := NewVerifier(pub)
	if Verify(pub, record, malleated) || v.Verify(record, malleated) || v.VerifyAll([][]byte{record}, [][]byte{malleated}, noRX(1)) != 0 {
		t.Error("a signature with S + L verifies")
	}
}

// signedBatch signs n records with the key of seed, and returns a Verifier
// of that key with them.
func signedBatch(t *testing.T, seed byte, n int) (v *Verifier, records, sigs [][]byte) {
	t.Helper()
	key := testKey(t, seed)
	v, err := NewVerifier(key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	records, sigs = make([][]byte, n), make([][]byte, n)
	for i := range n {
		records[i] = fmt.Appendf(nil, "record %d", i)
		sigs[i] = Sign(key, records[i])
	}
	return v, records, sigs
}

func TestVerifyAll(t *testing.T) {
	const n = 300
	v, records, sigs := signedBatch(t, 4, n)
	if got := v.VerifyAll(records, sigs, noRX(n)); got != -1 {
		t.Fatalf("VerifyAll of good signatures = %d, want -1", got)
	}
	if got := v.VerifyAll(nil, nil, nil); got != -1 {
		t.Errorf("VerifyAll of nothing = %d, want -1", got)
	}
	if got := v.VerifyAll(records[:2], [][]byte{sigs[0], sigs[0]}, noRX(2)); got != 1 {
		t.Errorf("VerifyAll of two, the second bad, = %d, want 1", got)
	}
	for _, tc := range []struct {
		name   string
		damage func(records, sigs [][]byte)
		want   int
	}{
		{"a flipped bit", func(r, s [][]byte) { s[137][40] ^= 4 }, 137},
		{"a changed record", func(r, s [][]byte) { r[299] = []byte("record 298") }, 299},
		{"two bad, the first counts", func(r, s [][]byte) { s[250][0] ^= 1; s[12][63] ^= 1 }, 12},
		{"a short signature", func(r, s [][]byte) { s[5] = s[5][:63] }, 5},
		{"another key's", func(r, s [][]byte) { s[0] = Sign(testKey(t, 5), r[0]) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, s := slices.Clone(records), make([][]byte, n)
			for i := range sigs {
				s[i] = slices.Clone(sigs[i])
			}
			tc.damage(r, s)
			if got := v.VerifyAll(r, s, noRX(n)); got != tc.want {
				t.Errorf("VerifyAll = %d, want %d", got, tc.want)
			}
		})
	}
	if _, err := NewVerifier(make([]byte, 31)); err == nil {
		t.Error("NewVerifier accepted a 31-byte key")
	}
}

// TestSealResource checks that sealing a resource in place gives the bytes
// and signature of marshalling it first and sealing the record, and that
// records sealed into one buffer keep their bytes, whether the buffer had
// room for them or not.
func TestSealResource(t *testing.T) {
	key := testKey(t, 6)
	type sealed struct {
		got, want *federationv1.SignedRecord
		rec       *federationv1.Record
		resource  []byte
	}
	var all []sealed
	buf := make([]byte, 0, 600) // room for the first records, not the rest
	newBuffers := 0
	for i, m := range []proto.Message{
		&federationv1.PullRequest{Watermarks: map[string]int64{"fr": 3, "de": 9, "it": 1}, AllOrigins: true},
		&federationv1.PullRequest{Watermarks: map[string]int64{"es": 1}},
		&federationv1.Record{Origin: "x", Resource: bytes.Repeat([]byte("é"), 200)}, // a message longer than 127 bytes
		&federationv1.Record{Origin: "y", Resource: bytes.Repeat([]byte("ü"), 300)},
	} {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Seal(&federationv1.Record{Origin: "fr", Kind: 1, Id: "decidim", Seq: int64(300 + i), Resource: b}, key)
		if err != nil {
			t.Fatal(err)
		}
		rec := &federationv1.Record{Origin: "fr", Kind: 1, Id: "decidim", Seq: int64(300 + i)}
		got, rest, err := SealResource(buf, rec, m, key)
		if err != nil {
			t.Fatal(err)
		}
		size := len(signingContext) + len(want.GetRecord())
		switch sameArray := &rest[:1][0] == &buf[:1][0]; {
		case cap(buf)-len(buf) >= size && !(sameArray && len(rest) == len(buf)+size):
			t.Errorf("record %d: %d bytes had room in the buffer, and were not put after its %d bytes", i, size, len(buf))
		case cap(buf)-len(buf) < size && (sameArray || len(rest) != size):
			t.Errorf("record %d: %d bytes had no room in the buffer, and were not put in a new one", i, size)
		case !sameArray:
			newBuffers++
		}
		buf = rest
		all = append(all, sealed{got, want, rec, b})
	}
	if newBuffers == 0 || newBuffers == len(all) {
		t.Errorf("%d of %d records went to a new buffer; the test wants some in the first one and some not", newBuffers, len(all))
	}
	for i, s := range all {
		if !proto.Equal(s.got, s.want) {
			t.Errorf("record %d: SealResource gave\n%x\nwant\n%x", i, s.got.GetRecord(), s.want.GetRecord())
		}
		if !bytes.Equal(s.rec.GetResource(), s.resource) {
			t.Errorf("record %d: rec.Resource is %x, want %x", i, s.rec.GetResource(), s.resource)
		}
	}
	for _, c := range []struct {
		what string
		rec  *federationv1.Record
		m    proto.Message
	}{
		{"an empty resource", &federationv1.Record{Origin: "fr", Kind: 1, Id: "a", Seq: 1}, &federationv1.PullRequest{}},
		{"a bad origin", &federationv1.Record{Origin: "FR", Kind: 1, Id: "a", Seq: 1}, &federationv1.PullRequest{AllOrigins: true}},
		{"a tombstone", &federationv1.Record{Origin: "fr", Kind: 1, Id: "a", Seq: 1, Deleted: true}, &federationv1.PullRequest{AllOrigins: true}},
		{"a record with unknown fields", withUnknownField(&federationv1.Record{Origin: "fr", Kind: 1, Id: "a", Seq: 1}), &federationv1.PullRequest{AllOrigins: true}},
	} {
		before := make([]byte, 3, 100)
		_, rest, err := SealResource(before, c.rec, c.m, key)
		if err == nil {
			t.Errorf("SealResource accepted %s", c.what)
		}
		if len(rest) != len(before) {
			t.Errorf("SealResource refused %s, and took %d bytes of the buffer", c.what, len(rest)-len(before))
		}
	}
}

func withUnknownField(rec *federationv1.Record) *federationv1.Record {
	rec.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1))
	return rec
}

// TestWeakKeysRefused checks that the keys of small order, with which a
// signature verifies for any message, and keys in non-canonical form are
// refused, and that a forged signature with such a key verifies nothing.
func TestWeakKeysRefused(t *testing.T) {
	smallOrder := []string{
		"0100000000000000000000000000000000000000000000000000000000000000", // the identity
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
		"0000000000000000000000000000000000000000000000000000000000000000", // order 4
		"0000000000000000000000000000000000000000000000000000000000000080", // order 4
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
	}
	// R = the identity, S = 0: a signature of anything by a key of small
	// order under the cofactored equation.
	forged := make([]byte, 64)
	forged[0] = 1
	for _, h := range smallOrder {
		pub, _ := hex.DecodeString(h)
		if err := CheckPublicKey(pub); err == nil || !strings.Contains(err.Error(), "small order") {
			t.Errorf("key %s: CheckPublicKey = %v, want small order", h, err)
		}
		if _, err := NewVerifier(pub); err == nil {
			t.Errorf("key %s: NewVerifier accepted it", h)
		}
		if Verify(pub, []byte("anything"), forged) {
			t.Errorf("key %s: a forged signature verifies", h)
		}
	}
	// A key whose y is written as y + p, for a small y on the curve.
	found := false
	for y := byte(2); y < 19 && !found; y++ {
		var enc [32]byte
		enc[0] = y
		if CheckPublicKey(enc[:]) != nil {
			continue // not on the curve, or small order
		}
		found = true
		// y + p, little-endian: p = 2^255 - 19.
		nc := bytes.Repeat([]byte{0xff}, 32)
		nc[31], nc[0] = 0x7f, 0xed+y
		if err := CheckPublicKey(nc); err == nil || !strings.Contains(err.Error(), "canonical") {
			t.Errorf("y = %d written as y + p: CheckPublicKey = %v, want not canonical", y, err)
		}
	}
	if !found {
		t.Fatal("no y below 19 is on the curve")
	}
	if err := CheckPublicKey(testKey(t, 1).Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("a real key: %v", err)
	}
}

// TestTorsionInR checks the one case where these rules and crypto/ed25519
// part: a signer that adds a point of small order to R. crypto/ed25519
// refuses the signature; here it verifies alone and in a batch alike,
// which is what lets every node of the federation agree on a record
// whichever way it checked it.
func TestTorsionInR(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	record := []byte("a record signed with a twist")
	msg := signedMessage(nil, record)

	// The signing scalar a and a nonce r, as RFC 8032 makes them.
	h := sha512.Sum512(seed)
	h[0] &= 248
	h[31] &= 127
	h[31] |= 64
	a, err := scalar.NewFromBits(h[:32])
	if err != nil {
		t.Fatal(err)
	}
	nonce := sha512.Sum512([]byte("nonce"))
	r, err := scalar.NewFromBytesModOrderWide(nonce[:])
	if err != nil {
		t.Fatal(err)
	}
	// R = rB + T, with T of order 8.
	var tEnc curve.CompressedEdwardsY
	tBytes, _ := hex.DecodeString("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
	if _, err := tEnc.SetBytes(tBytes); err != nil {
		t.Fatal(err)
	}
	var torsion, bigR curve.EdwardsPoint
	if _, err := torsion.SetCompressedY(&tEnc); err != nil {
		t.Fatal(err)
	}
	bigR.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, r)
	bigR.Add(&bigR, &torsion)
	var rEnc curve.CompressedEdwardsY
	rEnc.SetEdwardsPoint(&bigR)
	// S = r + H(R, A, M) a.
	kh := sha512.New()
	kh.Write(rEnc[:])
	kh.Write(pub)
	kh.Write(msg)
	k, err := scalar.NewFromBytesModOrderWide(kh.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := scalar.New().Mul(k, a)
	s.Add(s, r)
	sig := append([]byte(nil), rEnc[:]...)
	sBytes := make([]byte, 32)
	if err := s.ToBytes(sBytes); err != nil {
		t.Fatal(err)
	}
	sig = append(sig, sBytes...)

	if ed25519.Verify(pub, msg, sig) {
		t.Fatal("crypto/ed25519 accepts the signature: the test no longer shows the difference")
	}
	v, err := NewVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	records, sigs := [][]byte{record}, [][]byte{sig}
	for i := range 2 * minBatch { // a batch, not one by one
		honest := []byte(fmt.Sprintf("honest record %d", i))
		records, sigs = append(records, honest), append(sigs, Sign(key, honest))
	}
	single := Verify(pub, record, sig)
	// The batch alone, not VerifyAll, which would fall back to one by one.
	b := voi.NewBatchVerifier()
	for i := range records {
		b.AddExpandedWithOptions(v.key, signedMessage(nil, records[i]), sigs[i], rules)
	}
	batch := b.VerifyBatchOnly(nil)
	if !single || !batch || !v.Verify(record, sig) || v.VerifyAll(records, sigs, noRX(len(records))) != -1 {
		t.Errorf("alone %v, in a batch %v: want both accepted", single, batch)
	}
}

// TestIDFrom checks ids made from names: accents dropped, ligatures and
// compatibility forms split (capitals among them lowercased), the letters
// NFKD leaves whole spelled out, every id valid.
func TestIDFrom(t *testing.T) {
	for name, want := range map[string]string{
		"Démocratie Ouverte!":      "democratie-ouverte",
		"Straße der Demokratie":    "strasse-der-demokratie",
		"ﬁnances publiques":        "finances-publiques",
		"ǅemal Bijedić":            "dzemal-bijedic",
		"Œuvre — ÆØ Łódź Þing":     "oeuvre-aeo-lodz-thing",
		"𝐃𝐞𝐜𝐢𝐝𝐢𝐦":                  "decidim",
		"ℍello Radio ㎒":            "hello-radio-mhz",
		"2030 Agenda":              "t-2030-agenda",
		"«2030 Agenda»":            "t-2030-agenda", // what comes first is t-'s hyphen
		"(1) Pétitions":            "t-1-petitions",
		"  --  ":                   "",
		"東京":                       "",
		strings.Repeat("abc-", 30): strings.TrimRight(strings.Repeat("abc-", 30)[:50], "-"),
	} {
		got := IDFrom(name, 50)
		if got != want {
			t.Errorf("IDFrom(%q) = %q, want %q", name, got, want)
		}
		if got != "" && !ValidID(got) {
			t.Errorf("IDFrom(%q) = %q, not a valid id", name, got)
		}
		if again := IDFrom(got, 50); again != got {
			t.Errorf("IDFrom(%q) = %q, whose id is %q", name, got, again)
		}
	}
}

// TestMemberSignaturesAreNotRecords: a member's signature of its gossip
// metadata verifies as such, by its key only, and neither it nor a
// record's signature passes for the other, whatever the bytes.
func TestMemberSignaturesAreNotRecords(t *testing.T) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	other, _, _ := ed25519.GenerateKey(nil)
	description := []byte("origin \"fr\"\ngossip \"127.0.0.1:7946\"\n")
	sig := SignMember(key, description)
	if !VerifyMember(pub, description, sig) {
		t.Error("a member's signature does not verify")
	}
	if VerifyMember(other, description, sig) || VerifyMember(pub, append(description, 'x'), sig) {
		t.Error("a member's signature verifies by another key, or of other bytes")
	}
	if Verify(pub, description, sig) {
		t.Error("a member's signature verifies as a record's")
	}
	if VerifyMember(pub, description, Sign(key, description)) {
		t.Error("a record's signature verifies as a member's")
	}
}

// FuzzIDFrom: an id made from a name is a valid id (or "" for a name of no
// letter or digit), of at most max bytes, and making an id of it again
// gives it back.
func FuzzIDFrom(f *testing.F) {
	for _, s := range []string{"Démocratie Ouverte!", "Straße", "ﬁnances", "2024 budget", "«2024»", "ǅungla", "---", "𝐃𝐞𝐜𝐢𝐝𝐢𝐦", "㎒", "ß1", "İstanbul", "Œuvre-ÆØÅ", "\xff\xfe", "1"} {
		f.Add(s, 50)
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, name string, max int) {
		if max < 1 || max > 63 {
			max = 50
		}
		id := IDFrom(name, max)
		if id == "" {
			return
		}
		if !ValidID(id) || len(id) > max {
			t.Fatalf("IDFrom(%q, %d) = %q: not a valid id of at most %d bytes", name, max, id, max)
		}
		if again := IDFrom(id, max); again != id {
			t.Fatalf("IDFrom(%q, %d) = %q, whose id is %q", name, max, id, again)
		}
	})
}
