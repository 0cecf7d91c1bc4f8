package node

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/ogptoolbox/federation/storage"
)

// TestPageToken checks that a page token gives back its cursor for its
// query only, and that no other string passes for one: one with bytes
// after the cursor, or a number written in more bytes than it needs.
func TestPageToken(t *testing.T) {
	query, other := []byte("query-01"), []byte("query-02")
	for _, c := range []storage.Cursor{
		{ID: 300, Name: "décidim"},
		{ID: 1, Value: -1_700_000_000_000_000},
		{ID: math.MaxInt64, Score: 3.25},
		{},
	} {
		token := encodePageToken(c, query)
		if got, err := decodePageToken(token, query); err != nil || *got != c {
			t.Fatalf("the token of %+v: %+v, %v", c, got, err)
		}
		if _, err := decodePageToken(token, other); err == nil {
			t.Error("a token of another query was taken")
		}
	}
	raw, _ := base64.RawURLEncoding.DecodeString(encodePageToken(storage.Cursor{ID: 300, Name: "decidim"}, query))
	cursor := func(id, value []byte, score uint64, name string) []byte {
		b := append(append(append([]byte{}, query...), id...), value...)
		b = binary.LittleEndian.AppendUint64(b, score)
		return append(binary.AppendUvarint(b, uint64(len(name))), name...)
	}
	for what, b := range map[string][]byte{
		"trailing bytes":        append(append([]byte{}, raw...), 0),
		"an id in 3 bytes":      cursor([]byte{0x80 | 44, 0x80 | 2, 0}, []byte{0}, 0, ""),
		"no cursor":             append([]byte{}, query...),
		"a truncated id":        append(append([]byte{}, query...), 0x80),
		"no score":              append(append([]byte{}, query...), 2, 0, 0),
		"a name cut short":      raw[:len(raw)-1],
		"a name not UTF-8":      cursor([]byte{2}, []byte{0}, 0, "\xff"),
		"a score that is NaN":   cursor([]byte{2}, []byte{0}, math.Float64bits(math.NaN()), ""),
		"a name past the bound": cursor([]byte{2}, []byte{0}, 0, strings.Repeat("a", maxCursorName+1)),
	} {
		if c, err := decodePageToken(base64.RawURLEncoding.EncodeToString(b), query); err == nil {
			t.Errorf("%s: taken as %+v", what, c)
		}
	}
	if c, err := decodePageToken("", query); c != nil || err != nil {
		t.Errorf("no token: %+v, %v", c, err)
	}
}
