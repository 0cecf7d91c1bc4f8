package envelope

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
)

// noRX is n records' x coordinates of R, none given.
func noRX(n int) [][]byte { return make([][]byte, n) }

// signedBatchRX is signedBatch with each signature's x coordinate of R.
func signedBatchRX(t *testing.T, seed byte, n int) (v *Verifier, key ed25519.PrivateKey, records, sigs, rxs [][]byte) {
	t.Helper()
	key = testKey(t, seed)
	v, err := NewVerifier(key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	records, sigs, rxs = make([][]byte, n), make([][]byte, n), make([][]byte, n)
	for i := range n {
		records[i] = fmt.Appendf(nil, "record %d", i)
		sigs[i], rxs[i] = signRX(key, signedMessage(nil, records[i]))
	}
	return v, key, records, sigs, rxs
}

func cloneAll(bs [][]byte) [][]byte {
	out := make([][]byte, len(bs))
	for i, b := range bs {
		out[i] = slices.Clone(b)
	}
	return out
}

// TestVerifyAllTakesOnlyTheRightX gives VerifyAll x coordinates of R
// that are not those of the signatures' R, as a faulty or hostile relay
// could: the signatures verify as without them, and each x is replaced
// by the right one; right ones are taken as they are.
func TestVerifyAllTakesOnlyTheRightX(t *testing.T) {
	const n = 24
	v, _, records, sigs, right := signedBatchRX(t, 7, n)
	negated := func(i int) []byte { // the x of −R: the same y, the other sign
		var c curve.CompressedEdwardsY
		copy(c[:], sigs[i][:32])
		var p curve.EdwardsPoint
		if _, err := p.SetCompressedY(&c); err != nil {
			t.Fatal(err)
		}
		var x [32]byte
		c.SetEdwardsPointAndX(p.Neg(&p), &x)
		return x[:]
	}
	for _, tc := range []struct {
		name string
		x    func(i int) []byte
	}{
		{"none", func(i int) []byte { return nil }},
		{"empty", func(i int) []byte { return []byte{} }},
		{"a bit flipped", func(i int) []byte { x := slices.Clone(right[i]); x[i%32] ^= 1 << (i % 8); return x }},
		{"the x of −R", negated},
		{"another signature's", func(i int) []byte { return slices.Clone(right[(i+1)%n]) }},
		{"bit 255 set (not canonical)", func(i int) []byte { x := slices.Clone(right[i]); x[31] |= 0x80; return x }},
		{"31 bytes", func(i int) []byte { return slices.Clone(right[i][:31]) }},
		{"33 bytes", func(i int) []byte { return append(slices.Clone(right[i]), 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{n, 1} { // a batch, and one by one
				rxs := slices.Clone(right[:size])
				for i := range size {
					if i%3 == 0 || size == 1 {
						rxs[i] = tc.x(i)
					}
				}
				if bad := v.VerifyAll(records[:size], sigs[:size], rxs); bad != -1 {
					t.Fatalf("%d records: record %d refused", size, bad)
				}
				for i := range size {
					if !bytes.Equal(rxs[i], right[i]) {
						t.Fatalf("%d records: record %d kept x %x, not %x", size, i, rxs[i], right[i])
					}
				}
			}
		})
	}
	t.Run("right ones taken as they are", func(t *testing.T) {
		rxs := cloneAll(right)
		given := slices.Clone(rxs)
		if bad := v.VerifyAll(records, sigs, rxs); bad != -1 {
			t.Fatalf("record %d refused", bad)
		}
		for i := range rxs {
			if &rxs[i][0] != &given[i][0] {
				t.Fatalf("record %d: its x was computed again, not taken", i)
			}
		}
	})
	t.Run("a bad signature with its R's x", func(t *testing.T) {
		s := cloneAll(sigs)
		s[5][40] ^= 2
		if bad := v.VerifyAll(records, s, cloneAll(right)); bad != 5 {
			t.Fatalf("VerifyAll = %d, want 5", bad)
		}
	})
	t.Run("another signature's R with its x", func(t *testing.T) {
		s, rxs := cloneAll(sigs), cloneAll(right)
		copy(s[3][:32], sigs[4][:32])
		rxs[3] = right[4]
		if bad := v.VerifyAll(records, s, rxs); bad != 3 {
			t.Fatalf("VerifyAll = %d, want 3", bad)
		}
	})
}

// TestRXChangesNoVerdict damages records, signatures and x coordinates
// at random: VerifyAll names the first record Verify refuses, whatever
// the x coordinates.
func TestRXChangesNoVerdict(t *testing.T) {
	const n = 32
	v, _, records, sigs, right := signedBatchRX(t, 8, n)
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 200 {
		rs, ss, xs := slices.Clone(records), slices.Clone(sigs), cloneAll(right)
		for range rng.IntN(3) {
			i := rng.IntN(n)
			if rng.IntN(2) == 0 {
				ss[i] = slices.Clone(ss[i])
				ss[i][rng.IntN(len(ss[i]))] ^= byte(1 + rng.IntN(255))
			} else {
				rs[i] = slices.Clone(rs[i])
				rs[i][rng.IntN(len(rs[i]))] ^= byte(1 + rng.IntN(255))
			}
		}
		for range rng.IntN(4) {
			i := rng.IntN(n)
			xs[i][rng.IntN(32)] ^= byte(1 + rng.IntN(255))
		}
		want := -1
		for i := range n {
			if !v.Verify(rs[i], ss[i]) {
				want = i
				break
			}
		}
		if got := v.VerifyAll(rs, ss, xs); got != want {
			t.Fatalf("trial %d: VerifyAll = %d, one by one %d", trial, got, want)
		}
	}
}

// TestXOfEveryEncodingTakenBack: the x that decompressing an encoding
// gives is taken back with it, for any encoding of a point, small-order
// points and non-canonical ones included (the two of x = 0 with the sign
// bit set), and is the same point.
func TestXOfEveryEncodingTakenBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	filled := func(first, last byte) (e [32]byte) { // 0xff between
		e[0], e[31] = first, last
		for j := 1; j < 31; j++ {
			e[j] = 0xff
		}
		return e
	}
	encodings := [][32]byte{
		{1},                // the identity
		{1, 31: 0x80},      // y = 1, sign bit set: x = 0 all the same
		filled(0xec, 0x7f), // y = −1
		filled(0xec, 0xff), // y = −1, sign bit set
		filled(0xee, 0x7f), // y = p + 1, not canonical: the identity
	}
	for range 300 {
		var e [32]byte
		for j := range e {
			e[j] = byte(rng.Uint32())
		}
		encodings = append(encodings, e)
	}
	taken := 0
	for _, e := range encodings {
		c := curve.CompressedEdwardsY(e)
		var p, q curve.EdwardsPoint
		var x [32]byte
		if _, err := p.SetCompressedYAndX(&c, &x); err != nil {
			continue // no point
		}
		if _, err := q.SetCompressedYWithX(&c, &x); err != nil {
			t.Errorf("%x: decompressing gives x %x, which is refused: %v", e, x, err)
			continue
		}
		if p.Equal(&q) != 1 {
			t.Errorf("%x: another point with its x", e)
		}
		taken++
	}
	if taken < 100 {
		t.Errorf("only %d encodings of points among %d", taken, len(encodings))
	}
}
