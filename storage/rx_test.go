package storage

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
)

// xOfR is the affine x coordinate of the point R of sig, computed from R.
func xOfR(t *testing.T, sig []byte) []byte {
	t.Helper()
	var c curve.CompressedEdwardsY
	copy(c[:], sig[:32])
	var p curve.EdwardsPoint
	var x [32]byte
	if _, err := p.SetCompressedYAndX(&c, &x); err != nil {
		t.Fatal(err)
	}
	return x[:]
}

// checkServedX checks that every record of pages comes with the x
// coordinate of its signature's R, and returns how many records there are.
func checkServedX(t *testing.T, who string, pages []*federationv1.OriginPage) int {
	t.Helper()
	n := 0
	for _, p := range pages {
		for _, sr := range p.GetRecords() {
			if want := xOfR(t, sr.GetSignature()); !bytes.Equal(sr.GetRX(), want) {
				t.Fatalf("%s serves record %d of %s with x %x, want %x", who, n, p.GetOrigin(), sr.GetRX(), want)
			}
			n++
		}
	}
	return n
}

// TestRecordsServedWithTheXOfR checks that a node serves each record with
// the x coordinate of its signature's R: the records it writes, tombstones
// too, and those it received from a peer that sent none (a node of an
// earlier version) or wrong ones, which it computes; and that records
// written before it kept them are served without, and taken all the same.
func TestRecordsServedWithTheXOfR(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	es := openAt(t, filepath.Join(dir, "es.db"), "es", testKey(3))
	for i := range 12 {
		create(t, fr, fmt.Sprintf("tool-%d", i), tool(fmt.Sprintf("Outil %d", i), "participation citoyenne"))
	}
	createAndDelete(t, fr, "gone")
	if _, err := fr.Apply(ctx, []Write{{Op: OpReplace, Kind: KindTool, ID: "tool-3", Resource: tool("Outil 3 bis", "budget participatif")}}); err != nil {
		t.Fatal(err)
	}

	fromFr := pages(t, fr, de, 0)
	if n := checkServedX(t, "fr", fromFr); n != 13 {
		t.Fatalf("fr serves %d records, want 13", n)
	}
	// As a node of an earlier version sends them, or a faulty relay.
	i := 0
	for _, p := range fromFr {
		for _, sr := range p.GetRecords() {
			switch i % 3 {
			case 0:
				sr.RX = nil
			case 1:
				sr.RX[7] ^= 0x10
			}
			i++
		}
	}
	for _, p := range fromFr {
		if _, err := de.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if n := checkServedX(t, "de", pages(t, de, es, 0)); n != 13 {
		t.Fatalf("de serves %d records of fr, want 13", n)
	}

	// Records written before the x coordinates were kept.
	if _, err := fr.writer.ExecContext(ctx, "UPDATE records SET r_x = NULL"); err != nil {
		t.Fatal(err)
	}
	old := pages(t, fr, es, 0)
	for _, p := range old {
		for _, sr := range p.GetRecords() {
			if sr.RX != nil {
				t.Fatalf("a record without its x served with %x", sr.RX)
			}
		}
		if _, err := es.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	it := openAt(t, filepath.Join(dir, "it.db"), "it", testKey(4))
	if n := checkServedX(t, "es", pages(t, es, it, 0)); n != 13 {
		t.Fatalf("es serves %d records of fr, want 13", n)
	}
}
