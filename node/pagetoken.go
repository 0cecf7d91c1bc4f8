package node

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"

	"google.golang.org/protobuf/proto"
)

// Page tokens carry the offset of the next page and a fingerprint of the
// query they belong to, so a token reused with another query is refused
// rather than giving a wrong page.

func queryFingerprint(q proto.Message) []byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(q)
	sum := sha256.Sum256(b)
	return sum[:8]
}

func encodePageToken(offset int, fingerprint []byte) string {
	b := binary.AppendUvarint(append([]byte{}, fingerprint...), uint64(offset))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(token string, fingerprint []byte) (int, error) {
	if token == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) <= len(fingerprint) {
		return 0, errors.New("is not a page token from this node")
	}
	if string(b[:len(fingerprint)]) != string(fingerprint) {
		return 0, errors.New("belongs to another query: send the same query and filters as the call that returned it")
	}
	rest := b[len(fingerprint):]
	off, n := binary.Uvarint(rest)
	// The whole rest, encoded as this node encodes it: one page has one
	// token.
	if n <= 0 || n != len(rest) || len(binary.AppendUvarint(nil, off)) != n || off > 1<<31 {
		return 0, errors.New("is not a page token from this node")
	}
	return int(off), nil
}
