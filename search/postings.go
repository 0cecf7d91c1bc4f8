package search

import (
	"cmp"
	"slices"
)

// A posting list grows in blocks that are never copied once full: the
// first up to sealedFirst postings, as append grows a slice, then blocks
// of twice the size of the one before, up to maxBlock. One slice per list
// was copied over and over as it grew (a list of 100,000 postings some
// twenty times): half of the CPU profile of putting a record in the
// index.
const (
	sealedFirst = 64
	maxBlock    = 4096 // 32 KiB
)

// postingList is a term's postings by slot, ascending (slots are appended
// in order). Most terms have few: their lists are a slice, and a term's
// entry in the index stays small.
type postingList struct {
	tail []posting      // the last postings
	more *postingBlocks // the full blocks, once there are any
}

type postingBlocks struct {
	full [][]posting // in slot order, none empty
	n    int         // postings in full
}

func (l *postingList) len() int {
	if l.more == nil {
		return len(l.tail)
	}
	return l.more.n + len(l.tail)
}

func (l *postingList) add(p posting) {
	if n := len(l.tail); n == cap(l.tail) && n >= sealedFirst {
		if l.more == nil {
			l.more = &postingBlocks{}
		}
		l.more.full = append(l.more.full, l.tail)
		l.more.n += n
		l.tail = make([]posting, 0, min(2*n, maxBlock))
	}
	l.tail = append(l.tail, p)
}

// full returns the full blocks.
func (l *postingList) full() [][]posting {
	if l.more == nil {
		return nil
	}
	return l.more.full
}

// numBlocks is the number of blocks of the list, the tail included (it may
// be empty); block(i) is block i, for i from 0 to numBlocks()-1, in slot
// order.
func (l *postingList) numBlocks() int { return len(l.full()) + 1 }

func (l *postingList) block(i int) []posting {
	if full := l.full(); i < len(full) {
		return full[i]
	}
	return l.tail
}

// find returns the posting of slot, if the list has it.
func (l *postingList) find(slot uint32) (posting, bool) {
	// The first block whose last slot is not below slot.
	i, _ := slices.BinarySearchFunc(l.full(), slot, func(b []posting, s uint32) int { return cmp.Compare(b[len(b)-1].slot, s) })
	b := l.block(i)
	k, found := slices.BinarySearchFunc(b, slot, func(p posting, s uint32) int { return cmp.Compare(p.slot, s) })
	if !found {
		return posting{}, false
	}
	return b[k], true
}

// addAll adds ps, which follow the list's postings in slot order, as add
// would one by one, a block at a time.
func (l *postingList) addAll(ps []posting) {
	for len(ps) > 0 {
		n := len(l.tail)
		if n == cap(l.tail) && n >= sealedFirst {
			l.add(ps[0]) // seals the tail and starts a block
			ps = ps[1:]
			continue
		}
		if n < sealedFirst {
			// The first postings grow as a slice, by append.
			k := min(len(ps), sealedFirst-n)
			l.tail = append(l.tail, ps[:k]...)
			ps = ps[k:]
			continue
		}
		k := min(len(ps), cap(l.tail)-n)
		l.tail = append(l.tail, ps[:k]...)
		ps = ps[k:]
	}
}
