package node

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"unicode/utf8"

	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/protobuf/proto"
)

// Page tokens carry where the last page ended, as the cursor of its last
// record (its sort key and id), and a fingerprint of the query they belong
// to, so a token reused with another query is refused rather than giving a
// wrong page. A cursor, not an offset: the next page starts after that
// record whatever was written meanwhile, where an offset skipped a record
// for each one deleted before it, and repeated one for each one written
// before it (any update, in the default order of the last updated first).

func queryFingerprint(q proto.Message) []byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(q)
	sum := sha256.Sum256(b)
	return sum[:8]
}

// maxCursorName bounds the sort name a page token carries: the index keeps
// no longer one.
const maxCursorName = storage.MaxSortName

func encodePageToken(c storage.Cursor, fingerprint []byte) string {
	b := append([]byte{}, fingerprint...)
	b = binary.AppendVarint(b, c.ID)
	b = binary.AppendVarint(b, c.Value)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.Score))
	b = binary.AppendUvarint(b, uint64(len(c.Name)))
	b = append(b, c.Name...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodePageToken is the cursor a page token carries; nil for no token.
func decodePageToken(token string, fingerprint []byte) (*storage.Cursor, error) {
	if token == "" {
		return nil, nil
	}
	notOurs := errors.New("is not a page token from this node")
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) <= len(fingerprint) {
		return nil, notOurs
	}
	if string(b[:len(fingerprint)]) != string(fingerprint) {
		return nil, errors.New("belongs to another query: send the same query and filters as the call that returned it")
	}
	rest := b[len(fingerprint):]
	var c storage.Cursor
	var n int
	if c.ID, n = binary.Varint(rest); n <= 0 {
		return nil, notOurs
	}
	rest = rest[n:]
	if c.Value, n = binary.Varint(rest); n <= 0 || len(rest) < n+8 {
		return nil, notOurs
	}
	c.Score = math.Float64frombits(binary.LittleEndian.Uint64(rest[n:]))
	rest = rest[n+8:]
	size, n := binary.Uvarint(rest)
	if n <= 0 || size > maxCursorName || uint64(len(rest)-n) != size || math.IsNaN(c.Score) || !utf8.Valid(rest[n:]) {
		return nil, notOurs
	}
	c.Name = string(rest[n:])
	// Encoded as this node encodes it, to the last byte: one page has
	// one token.
	if encodePageToken(c, fingerprint) != token {
		return nil, notOurs
	}
	return &c, nil
}
