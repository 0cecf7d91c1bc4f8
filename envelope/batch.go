package envelope

import (
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
)

// verifyBatch reports whether every sigs[i] is a signature of records[i]
// by v's key, under the rules of Verify, checking the signatures all at
// once. With k_i = H(R_i ‖ A ‖ M_i) and random 128-bit z_i, it checks the
// cofactored batch equation
//
//	[8]( −(Σ z_i·S_i)·B + Σ z_i·R_i + (Σ z_i·k_i)·A ) = 0,
//
// which holds for signatures that each pass the cofactored equation, and
// otherwise fails but with a chance of 2^-128 or so. (RFC 8032's batch
// verification; "Taming the many EdDSAs", Chalkias et al., 2020, shows it
// agrees with the cofactored single check.)
//
// curve25519-voi's batch verifier takes signatures by any keys, so each
// brings its own A term: a multiscalar multiplication of 2n+1 terms. A
// page's records are all by their origin's key, so here A comes once, in
// n+2 terms, about half the work.
//
// Each signature must first pass what Verify requires of its encoding
// (VerifyOptionsDefault): S canonical (below the group order), R the
// canonical encoding of a point (small order allowed). A signature that
// fails those fails the batch.
//
// Each R is decoded with rxs[i], its x coordinate, when that checks, and
// decompressed otherwise, and rxs[i] is then set to the x computed (even
// when the batch fails).
func (v *Verifier) verifyBatch(records, sigs, rxs [][]byte) bool {
	n := len(records)
	coefficients := make([]scalar.Scalar, n+2) // −Σ z_i·S_i | z_i... | Σ z_i·k_i
	rs := make([]curve.EdwardsPoint, n)
	scalars := make([]*scalar.Scalar, n+2)
	points := make([]*curve.EdwardsPoint, n+2)
	random := make([]byte, 16*n)
	rand.Read(random) // crypto/rand.Read does not fail: it would crash the program

	var computed []byte // the x coordinates rxs lacked, 32 bytes each
	var sumZS, sumZK, s, k, t scalar.Scalar
	var hash [sha512.Size]byte
	h := sha512.New()
	for i, sig := range sigs {
		if len(sig) != 64 || !scalar.ScMinimalVartime(sig[32:]) {
			return false
		}
		var r curve.CompressedEdwardsY
		if _, err := r.SetBytes(sig[:32]); err != nil || !r.IsCanonicalVartime() {
			return false
		}
		if err := decodeR(&rs[i], &r, &rxs[i], &computed, n-i); err != nil {
			return false
		}
		if _, err := s.SetBytesModOrder(sig[32:]); err != nil {
			return false
		}
		h.Reset()
		h.Write(sig[:32])
		h.Write(v.pub)
		h.Write([]byte(signingContext))
		h.Write(records[i])
		if _, err := k.SetBytesModOrderWide(h.Sum(hash[:0])); err != nil {
			return false
		}
		var wide [32]byte // z_i: 128 random bits, below the group order
		binary.LittleEndian.PutUint64(wide[0:], binary.LittleEndian.Uint64(random[16*i:]))
		binary.LittleEndian.PutUint64(wide[8:], binary.LittleEndian.Uint64(random[16*i+8:]))
		z := &coefficients[1+i]
		if _, err := z.SetBytesModOrder(wide[:]); err != nil {
			return false
		}
		sumZS.Add(&sumZS, t.Mul(z, &s))
		sumZK.Add(&sumZK, t.Mul(z, &k))
		scalars[1+i], points[1+i] = z, &rs[i]
	}
	coefficients[0].Neg(&sumZS)
	coefficients[n+1] = sumZK
	scalars[0], points[0] = &coefficients[0], curve.ED25519_BASEPOINT_POINT
	scalars[n+1], points[n+1] = &coefficients[n+1], &v.a
	var sum curve.EdwardsPoint
	return sum.MultiscalarMulVartime(scalars, points).IsSmallOrder()
}

// decodeR sets p to the point r encodes, with *rx, its x coordinate, when
// that checks (a few multiplications); else it decompresses r (a square
// root) and sets *rx to the x it computed, 32 bytes taken from *computed,
// which is made with room for those of the rest of the batch (left, this
// one's included) once it is full: one allocation for a batch from a node
// that sends none.
func decodeR(p *curve.EdwardsPoint, r *curve.CompressedEdwardsY, rx *[]byte, computed *[]byte, left int) error {
	if len(*rx) == len(r) {
		if _, err := p.SetCompressedYWithX(r, (*[32]byte)(*rx)); err == nil {
			return nil
		}
	}
	if cap(*computed)-len(*computed) < len(r) {
		*computed = make([]byte, 0, left*len(r))
	}
	x := (*computed)[len(*computed) : len(*computed)+len(r) : len(*computed)+len(r)]
	*computed = (*computed)[:len(*computed)+len(r)]
	if _, err := p.SetCompressedYAndX(r, (*[32]byte)(x)); err != nil {
		return err
	}
	*rx = x
	return nil
}
