package search

import "unsafe"

// A slab holds what the index keeps of each doc and term in a few large
// chunks rather than in objects of their own: a doc's term and facet
// numbers, its sort name, a term's token, a posting block's bytes. The
// garbage collector traces every object of the heap at each of its cycles,
// and an index of 100,000 tools was some 400,000 of these small objects:
// as slab chunks, which hold no pointers, they are a few hundred, which it
// does not look into. A pull of 100,000 tools ran half a dozen cycles over
// two such indexes (the source's and the replica's, in one process), a
// tenth of its CPU.
//
// A slab only grows: a value taken out of the index leaves its place
// unused until the index is compacted, which builds new slabs of what is
// live. The chunks are never written again where a value was added, so
// that a value handed out (a string made on a chunk's bytes) stays as it
// was whatever the index does next.
type slab[T any] struct {
	chunks [][]T
	// cur is the number of the chunk values are added to; a value too
	// large for a chunk has one of its own, after it.
	cur int
}

// slabChunk is the number of values of a chunk: a quarter of a megabyte of
// uint32s, 64 KiB of bytes.
const slabChunk = 1 << 16

// slabRef is where a value is in its slab.
type slabRef struct {
	chunk, at, n uint32
}

// add copies vals into the slab and returns where they are.
func (s *slab[T]) add(vals []T) slabRef {
	if len(vals) == 0 {
		return slabRef{}
	}
	if len(vals) > slabChunk/8 {
		// A value of its own, so as not to leave most of a chunk unused.
		s.chunks = append(s.chunks, append(make([]T, 0, len(vals)), vals...))
		return slabRef{chunk: uint32(len(s.chunks) - 1), n: uint32(len(vals))}
	}
	if len(s.chunks) == 0 || cap(s.chunks[s.cur])-len(s.chunks[s.cur]) < len(vals) {
		s.chunks = append(s.chunks, make([]T, 0, slabChunk))
		s.cur = len(s.chunks) - 1
	}
	c := s.chunks[s.cur]
	at := len(c)
	s.chunks[s.cur] = append(c, vals...)
	return slabRef{chunk: uint32(s.cur), at: uint32(at), n: uint32(len(vals))}
}

// get returns the values at r, which the caller may change in place but
// not append to.
func (s *slab[T]) get(r slabRef) []T {
	if r.n == 0 {
		return nil
	}
	return s.chunks[r.chunk][r.at : r.at+r.n : r.at+r.n]
}

// addString copies str into a slab of bytes.
func addString(s *slab[byte], str string) slabRef {
	return s.add(unsafe.Slice(unsafe.StringData(str), len(str)))
}

// getString returns the string at r of a slab of bytes, which shares the
// slab's memory: the slab never writes those bytes again.
func getString(s *slab[byte], r slabRef) string {
	b := s.get(r)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// transientString is b as a string that shares its memory, for a callee
// that keeps a copy if anything (such as dictionary.numberLocked).
func transientString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
