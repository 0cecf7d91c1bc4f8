package search

import (
	"cmp"
	"slices"
)

// A posting list grows in blocks that are never copied once full: the
// first up to sealedFirst postings, as append grows a slice, then blocks
// of twice the size of the one before, up to maxBlock. One slice per list
// was copied over and over as it grew (a list of 100,000 postings some
// twenty times): half the time of putting a record in the index.
const (
	sealedFirst = 64
	maxBlock    = 4096 // 32 KiB
)

// postingList is a term's postings by slot, ascending (slots are appended
// in order).
type postingList struct {
	full   [][]posting // full blocks, in slot order, none empty
	inFull int         // postings in full
	tail   []posting   // the last postings
}

func (l *postingList) len() int { return l.inFull + len(l.tail) }

func (l *postingList) add(p posting) {
	if n := len(l.tail); n == cap(l.tail) && n >= sealedFirst {
		l.full = append(l.full, l.tail)
		l.inFull += n
		l.tail = make([]posting, 0, min(2*n, maxBlock))
	}
	l.tail = append(l.tail, p)
}

// numBlocks is the number of blocks of the list, the tail included (it may
// be empty); block(i) is block i, for i from 0 to numBlocks()-1, in slot
// order.
func (l *postingList) numBlocks() int { return len(l.full) + 1 }

func (l *postingList) block(i int) []posting {
	if i < len(l.full) {
		return l.full[i]
	}
	return l.tail
}

// find returns the posting of slot, if the list has it.
func (l *postingList) find(slot uint32) (posting, bool) {
	// The first block whose last slot is not below slot.
	i, _ := slices.BinarySearchFunc(l.full, slot, func(b []posting, s uint32) int { return cmp.Compare(b[len(b)-1].slot, s) })
	b := l.block(i)
	k, found := slices.BinarySearchFunc(b, slot, func(p posting, s uint32) int { return cmp.Compare(p.slot, s) })
	if !found {
		return posting{}, false
	}
	return b[k], true
}
