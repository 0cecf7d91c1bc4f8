package envelope

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
)

// TestBatchAgreesWithVerify damages signatures and records at random, a
// byte at a time, and checks that VerifyAll names the first record whose
// signature Verify refuses, and that verifyBatch passes exactly the
// batches Verify passes whole.
func TestBatchAgreesWithVerify(t *testing.T) {
	const n = 64
	v, records, sigs := signedBatch(t, 5, n)
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		rs, ss := slices.Clone(records), slices.Clone(sigs)
		for range 1 + rng.IntN(2) {
			i := rng.IntN(n)
			if rng.IntN(4) == 0 {
				rs[i] = slices.Clone(rs[i])
				rs[i][rng.IntN(len(rs[i]))] ^= byte(1 + rng.IntN(255))
			} else {
				ss[i] = slices.Clone(ss[i])
				ss[i][rng.IntN(len(ss[i]))] ^= byte(1 + rng.IntN(255))
			}
		}
		want := -1
		for i := range n {
			if !v.Verify(rs[i], ss[i]) {
				want = i
				break
			}
		}
		if got := v.VerifyAll(rs, ss, noRX(n)); got != want {
			t.Fatalf("trial %d: VerifyAll = %d, one by one %d", trial, got, want)
		}
		if got := v.verifyBatch(rs, ss, noRX(n)); got != (want == -1) {
			t.Fatalf("trial %d: the batch passes: %v; one by one, the first refused is %d", trial, got, want)
		}
	}
}

// TestBatchEdgeCases checks the batch against Verify on signatures no
// honest signer makes, crafted with the private scalar: where the
// cofactored and cofactorless equations part, and where the encoding of
// R or S is not canonical.
func TestBatchEdgeCases(t *testing.T) {
	key := testKey(t, 6)
	pub := key.Public().(ed25519.PublicKey)
	v, err := NewVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha512.Sum512(key.Seed())
	digest[0] &= 248
	digest[31] &= 127
	digest[31] |= 64
	var a scalar.Scalar
	if _, err := a.SetBytesModOrder(digest[:32]); err != nil {
		t.Fatal(err)
	}
	// sign makes S = r + k·a for the given encoding of R (whatever point
	// it encodes; r is the nonce of its prime-order part).
	sign := func(record []byte, r *scalar.Scalar, rEncoding []byte) []byte {
		h := sha512.New()
		h.Write(rEncoding)
		h.Write(pub)
		h.Write([]byte(signingContext))
		h.Write(record)
		var k, s scalar.Scalar
		if _, err := k.SetBytesModOrderWide(h.Sum(nil)); err != nil {
			t.Fatal(err)
		}
		s.Mul(&k, &a)
		s.Add(&s, r)
		var sb [32]byte
		if err := s.ToBytes(sb[:]); err != nil {
			t.Fatal(err)
		}
		return append(slices.Clone(rEncoding), sb[:]...)
	}
	encode := func(p *curve.EdwardsPoint) []byte {
		var c curve.CompressedEdwardsY
		c.SetEdwardsPoint(p)
		return c[:]
	}
	var r scalar.Scalar
	if _, err := r.SetBytesModOrder(slices.Repeat([]byte{7}, 32)); err != nil {
		t.Fatal(err)
	}
	var rB, order8, withTorsion, identity curve.EdwardsPoint
	rB.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, &r)
	// A point of order 8: a batch's random coefficient cancels it only
	// when a multiple of 8, so a batch checking the cofactorless equation
	// would refuse it but once in 8.
	var y curve.CompressedEdwardsY
	if _, err := y.SetBytes(hexBytes(t, "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")); err != nil {
		t.Fatal(err)
	}
	if _, err := order8.SetCompressedY(&y); err != nil {
		t.Fatal(err)
	}
	var times4 curve.EdwardsPoint
	times4.Add(&order8, &order8)
	times4.Add(&times4, &times4)
	if !order8.IsSmallOrder() || times4.IsIdentity() {
		t.Fatal("the torsion point is not of order 8")
	}
	withTorsion.Add(&rB, &order8)
	identity.Identity()
	var zero scalar.Scalar
	nonCanonicalIdentity := append([]byte{0xee}, append(slices.Repeat([]byte{0xff}, 30), 0x7f)...) // p+1

	record := []byte("an edge case")
	honest := Sign(key, record)
	sPlusL := slices.Clone(honest) // S + the group order: the same S, not canonical
	{
		var s, l [32]byte
		copy(s[:], honest[32:])
		if err := scalar.BASEPOINT_ORDER.ToBytes(l[:]); err != nil {
			t.Fatal(err)
		}
		carry := 0
		for i := range 32 {
			sum := int(s[i]) + int(l[i]) + carry
			sPlusL[32+i], carry = byte(sum), sum>>8
		}
	}
	for _, tc := range []struct {
		name string
		sig  []byte
		want bool
	}{
		{"honest", honest, true},
		{"R with a component of order 8 (cofactored equation only)", sign(record, &r, encode(&withTorsion)), true},
		{"R the identity, canonical", sign(record, &zero, encode(&identity)), true},
		{"R the identity, not canonical", sign(record, &zero, nonCanonicalIdentity), false},
		{"S plus the group order", sPlusL, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := v.Verify(record, tc.sig); got != tc.want {
				t.Fatalf("Verify = %v, want %v", got, tc.want)
			}
			// In a batch of honest signatures, first, last and alone.
			records, sigs := [][]byte{record}, [][]byte{tc.sig}
			for i := range 7 {
				rec := fmt.Appendf(nil, "honest %d", i)
				records, sigs = append(records, rec), append(sigs, Sign(key, rec))
			}
			for range 4 { // fresh random coefficients each time
				for _, batch := range []struct{ records, sigs [][]byte }{
					{records, sigs},
					{append(slices.Clone(records[1:]), record), append(slices.Clone(sigs[1:]), tc.sig)},
					{records[:1], sigs[:1]},
				} {
					if got := v.verifyBatch(batch.records, batch.sigs, noRX(len(batch.records))); got != tc.want {
						t.Fatalf("verifyBatch of %d = %v, want %v", len(batch.records), got, tc.want)
					}
				}
			}
		})
	}
}

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
