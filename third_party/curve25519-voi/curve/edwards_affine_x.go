// This file is ogpnode's addition to curve25519-voi (see FORK.md at the
// module's root): a point's affine x coordinate, given out when a point is
// compressed or decompressed, and taken back with a compressed point, so
// that whoever decompresses the same encoding again checks x in a few
// multiplications instead of computing the square root.

package curve

import (
	"fmt"

	"github.com/oasisprotocol/curve25519-voi/internal/field"
)

var (
	errNoncanonicalX = fmt.Errorf("curve/edwards: x-coordinate not in canonical form")
	errXSign         = fmt.Errorf("curve/edwards: x-coordinate of the wrong sign")
	errNotOnCurve    = fmt.Errorf("curve/edwards: x-coordinate not of this y-coordinate")
)

// SetEdwardsPointAndX compresses an Edwards point, as SetEdwardsPoint
// does, and writes the canonical encoding of its affine x coordinate to x
// (one multiplication more).
func (p *CompressedEdwardsY) SetEdwardsPointAndX(point *EdwardsPoint, x *[CompressedPointSize]byte) *CompressedEdwardsY {
	var X, Y, recip field.Element
	recip.Invert(&point.inner.Z)
	X.Mul(&point.inner.X, &recip)
	Y.Mul(&point.inner.Y, &recip)

	_ = Y.ToBytes(p[:])
	p[31] ^= byte(X.IsNegative()) << 7
	_ = X.ToBytes(x[:])

	return p
}

// SetCompressedYAndX decompresses compressedY, as SetCompressedY does, and
// writes the canonical encoding of the point's affine x coordinate to x.
func (p *EdwardsPoint) SetCompressedYAndX(compressedY *CompressedEdwardsY, x *[CompressedPointSize]byte) (*EdwardsPoint, error) {
	if _, err := p.SetCompressedY(compressedY); err != nil {
		return nil, err
	}
	// SetCompressedY leaves Z = 1: X is the affine x.
	_ = p.inner.X.ToBytes(x[:])
	return p, nil
}

// SetCompressedYWithX sets p to the point compressedY encodes, as
// SetCompressedY does, given the canonical encoding of its affine x
// coordinate. It checks x rather than computing it: x must be canonical,
// of the sign compressedY gives (x = 0 of either, as SetCompressedY
// takes it), and (x, y) on the curve, where y is
// compressedY's y. Then x is the one SetCompressedY would compute, and p
// the same point; anything else is an error (and p is left as it was).
// Like SetCompressedY, it accepts non-canonical encodings of y.
//
// This function is variable-time: x and compressedY are public.
func (p *EdwardsPoint) SetCompressedYWithX(compressedY *CompressedEdwardsY, x *[CompressedPointSize]byte) (*EdwardsPoint, error) {
	var X, Y, XX, YY, lhs, rhs, one field.Element
	if _, err := Y.SetBytes(compressedY[:]); err != nil {
		return nil, err
	}
	if _, err := X.SetBytes(x[:]); err != nil {
		return nil, err
	}
	var canonical [CompressedPointSize]byte
	_ = X.ToBytes(canonical[:])
	if canonical != *x {
		return nil, errNoncanonicalX
	}
	// x = 0 takes either sign, as SetCompressedY's negation of 0 does: the
	// two encodings of y = ±1 with the sign bit set (which
	// IsCanonicalVartime refuses) decompress to x = 0.
	if X.IsNegative() != int(compressedY[31]>>7) && canonical != [CompressedPointSize]byte{} {
		return nil, errXSign
	}

	// -x^2 + y^2 = 1 + d*x^2*y^2
	one.One()
	XX.Square(&X)
	YY.Square(&Y)
	lhs.Sub(&YY, &XX)
	rhs.Mul(&XX, &YY)
	rhs.Mul(&rhs, &constEDWARDS_D)
	rhs.Add(&rhs, &one)
	if lhs.Equal(&rhs) != 1 {
		return nil, errNotOnCurve
	}

	p.inner.X.Set(&X)
	p.inner.Y.Set(&Y)
	p.inner.Z.Set(&one)
	p.inner.T.Mul(&X, &Y)

	return p, nil
}
