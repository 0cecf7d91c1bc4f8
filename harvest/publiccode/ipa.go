package publiccode

import (
	"cmp"
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// ipaRegister is the register of the codes of Italian public
// administrations (codici IPA, from IndicePA), one URN per line
// (urn:x-italian-pa:CODE), sorted. data/README.md says where it comes from
// and how to refresh it.
//
//go:embed data/ipa-codes.txt
var ipaRegister string

// ipaURNPrefix starts each line of the register.
const ipaURNPrefix = "urn:x-italian-pa:"

// ipaCodes returns the register's codes, sorted for isIPACode. It is built
// on first use, once: nothing is spent when no file names an iPA code.
var ipaCodes = sync.OnceValue(func() []uint32 { return indexIPARegister(ipaRegister) })

// indexIPARegister returns the codes of a register, without the URN
// prefix, sorted by compareFold for a binary search. Each code is the
// offset of its first byte in register shifted left by 8, or'ed with its
// length (see ipaCode): the index points into the register without
// holding pointers, so it costs 4 bytes a code and nothing to the garbage
// collector, which never scans it.
func indexIPARegister(register string) []uint32 {
	codes := make([]uint32, 0, strings.Count(register, "\n")+1)
	offset := 0
	for line := range strings.Lines(register) {
		start := offset + len(ipaURNPrefix)
		offset += len(line)
		line = strings.TrimRight(line, "\r\n")
		code, ok := strings.CutPrefix(line, ipaURNPrefix)
		if !ok || code == "" || len(code) > 0xff || start >= 1<<24 {
			continue // not a line of the register, or too long to index
		}
		codes = append(codes, uint32(start)<<8|uint32(len(code)))
	}
	slices.SortFunc(codes, func(a, b uint32) int {
		return compareFold(ipaCode(register, a), ipaCode(register, b))
	})
	return codes
}

// ipaCode returns the code c of the index of register.
func ipaCode(register string, c uint32) string {
	start := c >> 8
	return register[start : start+c&0xff]
}

// isIPACode reports whether code is the iPA code of an Italian public
// administration in the register. Case is ignored, as the reference
// parser does (it lower-cases both sides): IndicePA writes pcm as PCM and
// c_h501 in lower case, and publiccode.yml files write them either way.
func isIPACode(code string) bool {
	if code == "" {
		return false
	}
	code = strings.ToLower(code)
	_, found := slices.BinarySearchFunc(ipaCodes(), code, func(c uint32, code string) int {
		return compareFold(ipaCode(ipaRegister, c), code)
	})
	return found
}

// compareFold compares two strings byte by byte with ASCII letters
// lower-cased; the register is ASCII.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if ca, cb := lowerASCII(a[i]), lowerASCII(b[i]); ca != cb {
			return cmp.Compare(ca, cb)
		}
	}
	return cmp.Compare(len(a), len(b))
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// ipaSource names the register in messages.
const ipaSource = "the register of Italian public administrations (IndicePA, https://www.indicepa.gov.it)"
