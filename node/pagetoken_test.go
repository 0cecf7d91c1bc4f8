package node

import (
	"encoding/base64"
	"testing"
)

// TestPageToken checks that a page token gives back its offset for its
// query only, and that no other string passes for one: one with bytes
// after the offset, or the offset written in more bytes than it needs.
func TestPageToken(t *testing.T) {
	query, other := []byte("query-01"), []byte("query-02")
	token := encodePageToken(300, query)
	if off, err := decodePageToken(token, query); err != nil || off != 300 {
		t.Fatalf("the token of offset 300: %d, %v", off, err)
	}
	if _, err := decodePageToken(token, other); err == nil {
		t.Error("a token of another query was taken")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(token)
	for what, b := range map[string][]byte{
		"trailing bytes":       append(append([]byte{}, raw...), 0),
		"an offset in 3 bytes": append(append([]byte{}, query...), 0x80|44, 0x80|2, 0),
		"no offset":            append([]byte{}, query...),
		"an offset past 2^31":  append(append([]byte{}, query...), 0xff, 0xff, 0xff, 0xff, 0x0f),
		"a truncated offset":   append(append([]byte{}, query...), 0x80),
	} {
		if off, err := decodePageToken(base64.RawURLEncoding.EncodeToString(b), query); err == nil {
			t.Errorf("%s: taken as offset %d", what, off)
		}
	}
}
