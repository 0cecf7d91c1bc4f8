// Package jsonpos finds where things are in a JSON document, for the
// harvesters that read JSON sources (sill, codejson): the line and column
// of each key, so that a rejected entry's findings point into the file, and
// a clear message when the file is not JSON of the expected shape.
package jsonpos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Offsets maps the key path of every object member and array element of
// the JSON document data ("[3]", "releases[3].contact.email") to the byte
// offset where it starts, so that a finding can say on which line and
// column its key is. data must be valid JSON; callers walk it only when an
// entry is rejected.
func Offsets(data []byte) map[string]int {
	out := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(data))
	_ = walk(dec, data, "", 0, out) // data was checked to be JSON: no error
	return out
}

// maxDepth bounds the depth at which members and elements are recorded:
// every key the readers name is within a few levels, and each path is as
// long as its depth, so that a value nested 5,000 deep took gigabytes.
// Deeper values are read through, not recorded.
const maxDepth = 32

// walk reads one JSON value from dec, at depth, recording the offsets of
// its members and elements under path.
func walk(dec *json.Decoder, data []byte, path string, depth int, out map[string]int) error {
	record := depth < maxDepth
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch delim {
	case '{':
		for dec.More() {
			at := skipSeparators(data, int(dec.InputOffset()))
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			p := ""
			if record {
				key, _ := tok.(string)
				p = key
				if path != "" {
					p = path + "." + key
				}
				out[p] = at
			}
			if err := walk(dec, data, p, depth+1, out); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			p := ""
			if record {
				p = path + "[" + strconv.Itoa(i) + "]"
				out[p] = skipSeparators(data, int(dec.InputOffset()))
			}
			if err := walk(dec, data, p, depth+1, out); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// skipSeparators moves off past the white space and commas that the
// decoder has not consumed yet, to where the next key or element starts.
func skipSeparators(data []byte, off int) int {
	for off < len(data) && bytes.IndexByte([]byte(" \t\r\n,"), data[off]) >= 0 {
		off++
	}
	return off
}

// LineColumn turns a byte offset of data into a line and a column, both
// from 1, the column counted in characters.
func LineColumn(data []byte, off int) (line, column int32) {
	off = min(max(off, 0), len(data))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return int32(bytes.Count(data[:off], []byte("\n")) + 1), int32(utf8.RuneCount(data[start:off]) + 1)
}

// A Locator is LineColumn for many offsets of one document, each in time
// that does not grow with the document: LineColumn counts from the start,
// and a reader locating each finding of a one-line file (the SILL is
// published minified) with it took minutes for 100,000 rejected entries.
type Locator struct {
	data  []byte
	lines []int // where each line starts
	runes []int // the characters before each block of runeBlock bytes
}

// runeBlock is the size of the blocks of a document whose characters a
// Locator counts ahead: locating an offset counts at most one block.
const runeBlock = 4096

// NewLocator reads data once to locate its offsets.
func NewLocator(data []byte) *Locator {
	l := &Locator{data: data, lines: []int{0}, runes: make([]int, len(data)/runeBlock+1)}
	n := 0
	for i, c := range data {
		if i%runeBlock == 0 {
			l.runes[i/runeBlock] = n
		}
		if c == '\n' {
			l.lines = append(l.lines, i+1)
		}
		if utf8.RuneStart(c) {
			n++
		}
	}
	if len(data)%runeBlock == 0 { // the end starts a block of its own
		l.runes[len(data)/runeBlock] = n
	}
	return l
}

// LineColumn is LineColumn(data, off) for the Locator's data.
func (l *Locator) LineColumn(off int) (line, column int32) {
	off = min(max(off, 0), len(l.data))
	i := sort.SearchInts(l.lines, off+1) - 1 // the last line starting at or before off
	return int32(i + 1), int32(l.runesBefore(off) - l.runesBefore(l.lines[i]) + 1)
}

// runesBefore is how many characters data holds before off.
func (l *Locator) runesBefore(off int) int {
	b := off / runeBlock
	n := l.runes[b]
	for _, c := range l.data[b*runeBlock : off] {
		if utf8.RuneStart(c) {
			n++
		}
	}
	return n
}

// CheckEncoding refuses a document that is not UTF-8, as JSON must be,
// naming where: encoding/json reads each byte that is not as U+FFFD, and a
// file saved as Windows-1252 was imported with every accent replaced. A
// file in UTF-16 (a byte order mark of it) is named as such.
func CheckEncoding(data []byte) error {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return errors.New("the file is in UTF-16: save it in UTF-8, as JSON must be")
	}
	if utf8.Valid(data) {
		return nil
	}
	off := 0
	for off < len(data) {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	line, col := LineColumn(data, off)
	return fmt.Errorf("the file is not in UTF-8, as JSON must be: line %d, column %d holds a byte that is not (was it saved as Windows-1252 or Latin-1?)", line, col)
}

// SourceError explains why data cannot be read as a JSON document of the
// expected shape, with the line and column of a syntax error.
func SourceError(data []byte, err error, shape string) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line, col := LineColumn(data, int(syntax.Offset)-1)
		return fmt.Errorf("not a JSON document: line %d, column %d: %v", line, col, syntax)
	case errors.As(err, &typ) && typ.Field == "":
		return fmt.Errorf("the document is a JSON %s, not %s", typ.Value, shape)
	default:
		return fmt.Errorf("not a JSON document: %w", err)
	}
}
