package envelope

import (
	"crypto/ed25519"
	"crypto/sha512"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
)

// signRX signs msg with key by RFC 8032's Ed25519, the same bytes
// crypto/ed25519 makes, and returns with the signature the affine x
// coordinate of its point R (SignedRecord.r_x): the signer has it for one
// multiplication, as it compresses R, where a receiver would need a
// square root. key must be an ed25519.PrivateKey of the right size.
func signRX(key ed25519.PrivateKey, msg []byte) (sig, rx []byte) {
	if len(key) != ed25519.PrivateKeySize {
		panic("envelope: bad private key length")
	}
	expanded := sha512.Sum512(key[:ed25519.SeedSize])
	expanded[0] &= 248
	expanded[31] &= 127
	expanded[31] |= 64
	var a, r, s scalar.Scalar
	if _, err := a.SetBits(expanded[:32]); err != nil {
		panic("envelope: " + err.Error()) // 32 bytes always do
	}

	// r = H(prefix ‖ M), R = rB
	var digest [sha512.Size]byte
	h := sha512.New()
	h.Write(expanded[32:])
	h.Write(msg)
	if _, err := r.SetBytesModOrderWide(h.Sum(digest[:0])); err != nil {
		panic("envelope: " + err.Error()) // 64 bytes always do
	}
	var point curve.EdwardsPoint
	var R curve.CompressedEdwardsY
	var x [curve.CompressedPointSize]byte
	R.SetEdwardsPointAndX(point.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, &r), &x)

	// S = r + H(R ‖ A ‖ M)·a
	h.Reset()
	h.Write(R[:])
	h.Write(key[ed25519.SeedSize:])
	h.Write(msg)
	if _, err := s.SetBytesModOrderWide(h.Sum(digest[:0])); err != nil {
		panic("envelope: " + err.Error())
	}
	s.Mul(&s, &a)
	s.Add(&s, &r)

	out := make([]byte, ed25519.SignatureSize+len(x))
	copy(out, R[:])
	if err := s.ToBytes(out[32:ed25519.SignatureSize]); err != nil {
		panic("envelope: " + err.Error())
	}
	copy(out[ed25519.SignatureSize:], x[:])
	return out[:ed25519.SignatureSize:ed25519.SignatureSize], out[ed25519.SignatureSize:]
}

// checkedRX returns the affine x coordinate of the point R of sig (its
// first 32 bytes, which must encode a point): rx itself when it is that x,
// else the x computed from R (decodeR), or nil if R encodes no point.
func checkedRX(sig, rx []byte) []byte {
	if len(sig) != ed25519.SignatureSize {
		return nil
	}
	var R curve.CompressedEdwardsY
	copy(R[:], sig[:32])
	var p curve.EdwardsPoint
	var computed []byte
	if err := decodeR(&p, &R, &rx, &computed, 1); err != nil {
		return nil
	}
	return rx
}
