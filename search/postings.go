package search

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// A posting list keeps its postings compressed in blocks of blockSize,
// each allocated once and never copied, and its last postings, fewer than
// blockSize, as they are.
//
// Compressed, a posting takes two or three bytes rather than eight: the
// index of 100,000 tools went from 178 to 125 MiB. Memory is most of what
// putting a record in the index costs: each byte the index keeps is fresh
// memory for the process, twice over (the garbage collector lets the heap
// grow to twice what lives in it), and on a virtual machine fresh memory
// is slow (13 µs a page on the machine of the README's figures). Reading
// a block decodes it, a few nanoseconds a posting: searches over 100,000
// tools took about half a millisecond more at the 99th percentile.
//
// A list kept as one slice was earlier copied over and over as it grew:
// half of the CPU profile of putting a record in the index.
const blockSize = 64

// postingList is a term's postings by slot, ascending (slots are appended
// in order).
type postingList struct {
	tail []posting      // the last postings, fewer than blockSize
	more *postingBlocks // the full blocks, once there are any
}

type postingBlocks struct {
	full []postingBlock // in slot order
	n    int            // postings in full
}

// postingBlock is blockSize postings, compressed: each posting's slot as
// the distance from the one before less one (from first for the first),
// a varint, then its counts (see appendCounts). The bytes are in the
// index's slab of blocks (Index.blocks), which every method that reads or
// adds blocks is given.
type postingBlock struct {
	first, last uint32 // slots
	bytes       slabRef
}

func (l *postingList) len() int {
	if l.more == nil {
		return len(l.tail)
	}
	return l.more.n + len(l.tail)
}

func (l *postingList) add(p posting, blocks *slab[byte]) {
	l.tail = append(l.tail, p)
	if len(l.tail) == blockSize {
		l.seal(blocks)
	}
}

// addAll adds ps, which follow the list's postings in slot order, as add
// would one by one.
func (l *postingList) addAll(ps []posting, blocks *slab[byte]) {
	for len(ps) > 0 {
		k := min(len(ps), blockSize-len(l.tail))
		l.tail = append(l.tail, ps[:k]...)
		ps = ps[k:]
		if len(l.tail) == blockSize {
			l.seal(blocks)
		}
	}
}

// seal compresses the tail, which is full, into a block; the tail's memory
// takes the next postings.
func (l *postingList) seal(blocks *slab[byte]) {
	if l.more == nil {
		l.more = &postingBlocks{}
	}
	var buf [blockSize * (binary.MaxVarintLen32 + 1 + NumFields)]byte
	b := buf[:0]
	prev := l.tail[0].slot
	for i, p := range l.tail {
		if i > 0 {
			b = binary.AppendUvarint(b, uint64(p.slot-prev-1))
			prev = p.slot
		}
		b = appendCounts(b, p.tf)
	}
	l.more.full = append(l.more.full, postingBlock{first: l.tail[0].slot, last: prev, bytes: blocks.add(b)})
	l.more.n += len(l.tail)
	l.tail = l.tail[:0]
}

// appendCounts appends tf in one byte when each count is below 4, as
// nearly all are (two bits each, the top bit clear), else in four: 0x80
// and the counts.
func appendCounts(b []byte, tf [NumFields]uint8) []byte {
	if tf[0] < 4 && tf[1] < 4 && tf[2] < 4 {
		return append(b, tf[0]|tf[1]<<2|tf[2]<<4)
	}
	return append(append(b, 0x80), tf[:]...)
}

// decode returns the block's postings, in out.
func (bl *postingBlock) decode(out *[blockSize]posting, blocks *slab[byte]) []posting {
	b, slot := blocks.get(bl.bytes), bl.first
	for i := range out {
		if i > 0 {
			d, n := binary.Uvarint(b)
			slot += uint32(d) + 1
			b = b[n:]
		}
		out[i].slot = slot
		if c := b[0]; c < 0x80 {
			out[i].tf = [NumFields]uint8{c & 3, c >> 2 & 3, c >> 4 & 3}
			b = b[1:]
		} else {
			out[i].tf = [NumFields]uint8(b[1 : 1+NumFields])
			b = b[1+NumFields:]
		}
	}
	return out[:]
}

func (l *postingList) full() []postingBlock {
	if l.more == nil {
		return nil
	}
	return l.more.full
}

// numBlocks is the number of blocks of the list, the tail included (it may
// be empty); block(i, buf) is block i, for i from 0 to numBlocks()-1, in
// slot order, decoded into buf if it is compressed.
func (l *postingList) numBlocks() int { return len(l.full()) + 1 }

func (l *postingList) block(i int, buf *[blockSize]posting, blocks *slab[byte]) []posting {
	if full := l.full(); i < len(full) {
		return full[i].decode(buf, blocks)
	}
	return l.tail
}

// find returns the posting of slot, if the list has it.
func (l *postingList) find(slot uint32, blocks *slab[byte]) (posting, bool) {
	// The first block whose last slot is not below slot.
	full := l.full()
	i, _ := slices.BinarySearchFunc(full, slot, func(b postingBlock, s uint32) int { return cmp.Compare(b.last, s) })
	var b []posting
	if i < len(full) {
		if slot < full[i].first {
			return posting{}, false
		}
		var buf [blockSize]posting
		b = full[i].decode(&buf, blocks)
	} else {
		b = l.tail
	}
	k, found := slices.BinarySearchFunc(b, slot, func(p posting, s uint32) int { return cmp.Compare(p.slot, s) })
	if !found {
		return posting{}, false
	}
	return b[k], true
}
