package envelope

import (
	"crypto/ed25519"
	"errors"
	"testing"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"google.golang.org/protobuf/proto"
)

func testKey(t *testing.T, seed byte) ed25519.PrivateKey {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s)
}

func TestSealOpen(t *testing.T) {
	key := testKey(t, 1)
	rec := &federationv1.Record{Origin: "fr", Kind: federationv1.RecordKind_RECORD_KIND_TOOL, Id: "decidim", Seq: 7, Resource: []byte("x")}
	sr, err := Seal(rec, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(sr, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !proto.Equal(got, rec) {
		t.Errorf("Open gave %v, want %v", got, rec)
	}

	other := testKey(t, 2).Public().(ed25519.PublicKey)
	if _, err := Open(sr, other); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Open with another key: got %v, want ErrBadSignature", err)
	}
	tampered := proto.Clone(sr).(*federationv1.SignedRecord)
	tampered.Record[len(tampered.Record)-1] ^= 1
	if _, err := Open(tampered, key.Public().(ed25519.PublicKey)); err == nil {
		t.Error("Open accepted a tampered record")
	}
}

func TestMalformedRecords(t *testing.T) {
	key := testKey(t, 1)
	for _, tc := range []struct {
		name string
		rec  *federationv1.Record
	}{
		{"bad origin", &federationv1.Record{Origin: "FR", Kind: 1, Id: "a", Seq: 1, Resource: []byte("x")}},
		{"no kind", &federationv1.Record{Origin: "fr", Id: "a", Seq: 1, Resource: []byte("x")}},
		{"bad id", &federationv1.Record{Origin: "fr", Kind: 1, Id: "A b", Seq: 1, Resource: []byte("x")}},
		{"zero seq", &federationv1.Record{Origin: "fr", Kind: 1, Id: "a", Resource: []byte("x")}},
		{"no resource", &federationv1.Record{Origin: "fr", Kind: 1, Id: "a", Seq: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Seal(tc.rec, key); err == nil {
				t.Error("Seal accepted it")
			}
			b, _ := proto.Marshal(tc.rec)
			if _, err := Parse(b); err == nil {
				t.Error("Parse accepted it")
			}
		})
	}
	if _, err := Parse([]byte{0xff, 0xff}); err == nil {
		t.Error("Parse accepted garbage")
	}
}

func TestNames(t *testing.T) {
	for s, want := range map[string]bool{
		"fr": true, "local": true, "fr-paris": true, "de-by2": true, "fr-ile-de-france": true,
		"f": false, "FR": false, "fr-": false, "fr--x": false, "fra": false, "": false, "1r": false,
	} {
		if got := ValidOrigin(s); got != want {
			t.Errorf("ValidOrigin(%q) = %v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]bool{
		"decidim": true, "a": true, "tool-2": true, "a1-b2": true,
		"": false, "2tool": false, "tool-": false, "Tool": false, "to_ol": false, string(make([]byte, 64)): false,
	} {
		if got := ValidID(s); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCountryOfOrigin(t *testing.T) {
	for origin, want := range map[string]string{
		"fr": "FR", "fr-paris": "FR", "de-by2": "DE", "es-catalunya-bcn": "ES",
		"local": "", "": "", "f": "", "fra": "", "zz": "", "zz-test": "", "eu": "", "1r": "",
	} {
		if got := CountryOfOrigin(origin); got != want {
			t.Errorf("CountryOfOrigin(%q) = %q, want %q", origin, got, want)
		}
	}
}
