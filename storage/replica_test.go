package storage

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/lockedbuf"
	"github.com/ogptoolbox/federation/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// pages reads the pages from has for a node holding to's watermarks.
func pages(t *testing.T, from, to *Store, maxBytes int) []*federationv1.OriginPage {
	t.Helper()
	ctx := context.Background()
	wms, err := to.Watermarks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*federationv1.OriginPage
	err = from.ReadPages(ctx, PullSpec{Watermarks: wms, AllOrigins: true, Exclude: []string{to.Origin()}, MaxPageBytes: maxBytes},
		func(p *federationv1.OriginPage) error {
			out = append(out, proto.Clone(p).(*federationv1.OriginPage))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pull applies to to every page from has for it.
func pull(t *testing.T, from, to *Store, maxBytes int) int {
	t.Helper()
	n := 0
	for _, p := range pages(t, from, to, maxBytes) {
		applied, err := to.ApplyPage(context.Background(), p)
		if err != nil {
			t.Fatalf("apply page of %s after %d: %v", p.GetOrigin(), p.GetAfterSeq(), err)
		}
		n += applied
	}
	return n
}

func digests(t *testing.T, s *Store, origin string) *federationv1.OriginDigest {
	t.Helper()
	ds, err := s.Digests(context.Background(), []string{origin})
	if err != nil || len(ds) != 1 {
		t.Fatalf("digests of %s: %v %v", origin, ds, err)
	}
	return ds[0]
}

func TestReplication(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	es := openAt(t, filepath.Join(dir, "es.db"), "es", testKey(3))

	for i := range 20 {
		create(t, fr, fmt.Sprintf("tool-%d", i), tool(fmt.Sprintf("Outil %d", i), "participation citoyenne"))
	}
	create(t, de, "beteiligung", tool("Beteiligung", "Bürgerbeteiligung"))
	first, err := fr.Get(ctx, KindTool, "fr", "tool-3")
	if err != nil {
		t.Fatal(err)
	}
	first.(*catalogv1.Tool).DisplayName = "Outil trois"
	if _, err := fr.Apply(ctx, []Write{{Op: OpReplace, ID: "tool-3", Resource: first}, {Op: OpDelete, Kind: KindTool, ID: "tool-4"}}); err != nil {
		t.Fatal(err)
	}

	// de pulls fr in small pages; es pulls from de only: fr's records reach
	// es through de, verified with fr's key.
	if n := pull(t, fr, de, 2000); n != 20 {
		t.Errorf("de applied %d records of fr, want 20 (19 tools and a tombstone)", n)
	}
	if got := len(pages(t, fr, de, 2000)); got != 0 {
		t.Errorf("de is up to date, yet fr has %d pages for it", got)
	}
	pull(t, de, es, 0)
	for _, s := range []*Store{de, es} {
		if diff := cmp.Diff(digests(t, fr, "fr"), digests(t, s, "fr"), protocmp.Transform()); diff != "" {
			t.Errorf("%s: digest of fr differs (-fr +%s):\n%s", s.Origin(), s.Origin(), diff)
		}
		got, err := s.Get(ctx, KindTool, "fr", "tool-3")
		if err != nil || got.(*catalogv1.Tool).GetDisplayName() != "Outil trois" {
			t.Errorf("%s: tool-3 is %v, %v", s.Origin(), got, err)
		}
		if want, _ := fr.Get(ctx, KindTool, "fr", "tool-3"); !proto.Equal(got, want) {
			t.Errorf("%s: the replica differs from the original:\n%v\n%v", s.Origin(), got, want)
		}
		if _, err := s.Get(ctx, KindTool, "fr", "tool-4"); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: the deleted tool: %v", s.Origin(), err)
		}
		total, _, err := s.Facets(ctx, Query{Kind: KindTool, Text: "participation", Filters: []Filter{{"origin", []string{"fr"}}}})
		if err != nil || total != 19 {
			t.Errorf("%s: search finds %d tools of fr, want 19 (%v)", s.Origin(), total, err)
		}
	}
	if got, err := es.Get(ctx, KindTool, "de", "beteiligung"); err != nil || got.(*catalogv1.Tool).GetOrigin() != "de" {
		t.Errorf("es: de's tool: %v, %v", got, err)
	}

	// A later update and delete replicate, and a tombstone does not come
	// back when an older page is offered again.
	old := pages(t, fr, es, 0)
	if len(old) != 0 {
		t.Fatalf("es is up to date, yet fr has %d pages", len(old))
	}
	replay := pages(t, fr, openAt(t, filepath.Join(dir, "empty.db"), "it", testKey(4)), 0)
	if _, err := fr.Apply(ctx, []Write{{Op: OpDelete, Kind: KindTool, ID: "tool-3"}}); err != nil {
		t.Fatal(err)
	}
	pull(t, fr, es, 0)
	if _, err := es.Get(ctx, KindTool, "fr", "tool-3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("es: tool-3 after its delete: %v", err)
	}
	var re *RefusedError
	if _, err := es.ApplyPage(ctx, replay[0]); !errors.As(err, &re) || re.Reason != RefusedStale {
		t.Errorf("a replayed page: %v, want %s", err, RefusedStale)
	}

	// The digests kept write by write are those computed from the records.
	assertDigestsRecomputed(t, es)

	// The replicas survive a restart, search index included.
	es.Close()
	es = openAt(t, filepath.Join(dir, "es.db"), "es", testKey(3))
	total, _, err := es.Facets(ctx, Query{Kind: KindTool, Text: "participation"})
	if err != nil || total != 18 {
		t.Errorf("after restart, es finds %d tools, want 18 (%v)", total, err)
	}
}

// TestRefusedPages checks that every kind of bad page is refused whole:
// nothing applied, the watermark where it was.
func TestRefusedPages(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	for i := range 5 {
		create(t, fr, fmt.Sprintf("t%d", i), tool(fmt.Sprintf("T%d", i), "x"))
	}
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	good := func() *federationv1.OriginPage {
		ps := pages(t, fr, de, 0)
		if len(ps) != 1 {
			t.Fatalf("%d pages", len(ps))
		}
		return ps[0]
	}
	// forge signs a record as fr would, with key.
	forge := func(key ed25519.PrivateKey, rec *federationv1.Record) *federationv1.SignedRecord {
		sr, err := envelope.Seal(rec, key)
		if err != nil {
			t.Fatal(err)
		}
		return sr
	}
	// changed is the good page, its record i's tool changed and signed
	// again as fr would.
	changed := func(i int, change func(*catalogv1.Tool)) *federationv1.OriginPage {
		p := good()
		rec, _ := envelope.Parse(p.Records[i].Record)
		var tl catalogv1.Tool
		if err := proto.Unmarshal(rec.Resource, &tl); err != nil {
			t.Fatal(err)
		}
		change(&tl)
		rec.Resource, _ = proto.Marshal(&tl)
		p.Records[i] = forge(testKey(1), rec)
		return p
	}
	otherKey := testKey(9)
	// rekeyed is de under another key, as a node whose key was lost and
	// made anew left it in the federation.
	rekeyed := openAt(t, filepath.Join(dir, "rekeyed.db"), "de", otherKey)
	create(t, rekeyed, "old", tool("Old", "x"))
	for _, tc := range []struct {
		name   string
		reason string
		page   func() *federationv1.OriginPage
	}{
		{"a tampered record", RefusedBadSignature, func() *federationv1.OriginPage {
			p := good()
			p.Records[2].Signature[5] ^= 1
			return p
		}},
		{"a record signed by another key, the page claiming it", RefusedBadSignature, func() *federationv1.OriginPage {
			p := good()
			rec, _ := envelope.Parse(p.Records[1].Record)
			p.Records[1] = forge(otherKey, rec)
			return p
		}},
		{"bytes that are no record", RefusedMalformed, func() *federationv1.OriginPage {
			p := good()
			p.Records[0].Record = []byte("not a record")
			return p
		}},
		{"a record of another origin", RefusedMalformed, func() *federationv1.OriginPage {
			p := good()
			rec, _ := envelope.Parse(p.Records[4].Record)
			rec.Origin = "de"
			p.Records[4] = forge(testKey(1), rec)
			return p
		}},
		{"a resource that names another record", RefusedMalformed, func() *federationv1.OriginPage {
			p := good()
			rec, _ := envelope.Parse(p.Records[0].Record)
			rec.Id = "renamed"
			p.Records[0] = forge(testKey(1), rec)
			return p
		}},
		{"a resource of 100,000 empty messages, 120 times its size once decoded", RefusedMalformed, func() *federationv1.OriginPage {
			return changed(0, func(tl *catalogv1.Tool) {
				tl.Maintenance = &catalogv1.Maintenance{Contacts: make([]*catalogv1.Contact, 100_000)}
				for i := range tl.Maintenance.Contacts {
					tl.Maintenance.Contacts[i] = &catalogv1.Contact{}
				}
			})
		}},
		{"a creation time past the year 9999, which JSON cannot write", RefusedMalformed, func() *federationv1.OriginPage {
			return changed(3, func(tl *catalogv1.Tool) { tl.CreateTime = &timestamppb.Timestamp{Seconds: 253402300800} })
		}},
		{"a harvest time of negative nanoseconds", RefusedMalformed, func() *federationv1.OriginPage {
			return changed(2, func(tl *catalogv1.Tool) {
				tl.Provenance = &catalogv1.Provenance{HarvestTime: &timestamppb.Timestamp{Seconds: 1, Nanos: -1}}
			})
		}},
		{"records out of order", RefusedSeqOrder, func() *federationv1.OriginPage {
			p := good()
			p.Records[1], p.Records[2] = p.Records[2], p.Records[1]
			return p
		}},
		{"a record past the page's end", RefusedSeqOrder, func() *federationv1.OriginPage {
			p := good()
			p.ThroughSeq = 3
			return p
		}},
		{"a gap", RefusedGap, func() *federationv1.OriginPage {
			p := good()
			p.AfterSeq, p.Records = 1, p.Records[1:]
			return p
		}},
		{"the node's own origin under another key", RefusedOwnOrigin, func() *federationv1.OriginPage {
			return pages(t, rekeyed, fr, 0)[0]
		}},
		{"records of another origin in a page of the node's", RefusedMalformed, func() *federationv1.OriginPage {
			p := good()
			p.Origin = "de"
			return p
		}},
		{"no key", RefusedKeyMismatch, func() *federationv1.OriginPage {
			p := good()
			p.PublicKey = nil
			return p
		}},
		{"a key of small order, which verifies any forgery", RefusedKeyMismatch, func() *federationv1.OriginPage {
			p := good()
			identity := make([]byte, 32)
			identity[0] = 1
			p.PublicKey = identity
			for _, sr := range p.Records {
				// R = the identity, S = 0: under that key, a signature
				// of anything.
				sr.Signature = append(slices.Clone(identity), make([]byte, 32)...)
			}
			return p
		}},
		{"not an origin", RefusedBadOrigin, func() *federationv1.OriginPage {
			p := good()
			p.Origin = "FR!"
			return p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := digestsAll(t, de)
			n, err := de.ApplyPage(ctx, tc.page())
			var re *RefusedError
			if !errors.As(err, &re) || re.Reason != tc.reason {
				t.Fatalf("got %d, %v; want refused (%s)", n, err, tc.reason)
			}
			if diff := cmp.Diff(before, digestsAll(t, de), protocmp.Transform()); diff != "" {
				t.Errorf("the refused page changed the catalog:\n%s", diff)
			}
		})
	}

	// No refused page pinned a key (PinnedKey remembers that none is).
	if k, err := de.PinnedKey(ctx, "fr"); k != nil || err != nil {
		t.Fatalf("after refused pages only, fr's pinned key is %x, %v; want none", k, err)
	}
	// The good page applies; then fr's key is pinned, and a page of fr's
	// records forged with another key, the page claiming it, is refused.
	if _, err := de.ApplyPage(ctx, good()); err != nil {
		t.Fatal(err)
	}
	if k, err := de.PinnedKey(ctx, "fr"); !k.Equal(testKey(1).Public()) || err != nil {
		t.Fatalf("after fr's first page, its pinned key is %x, %v; want fr's", k, err)
	}
	create(t, fr, "t5", tool("T5", "x"))
	p := pages(t, fr, de, 0)[0]
	for i, sr := range p.Records {
		rec, _ := envelope.Parse(sr.Record)
		p.Records[i] = forge(otherKey, rec)
	}
	p.PublicKey = otherKey.Public().(ed25519.PublicKey)
	before := digestsAll(t, de)
	var re *RefusedError
	if _, err := de.ApplyPage(ctx, p); !errors.As(err, &re) || re.Reason != RefusedKeyMismatch {
		t.Errorf("a page signed with another key than the pinned one: %v", err)
	}
	if diff := cmp.Diff(before, digestsAll(t, de), protocmp.Transform()); diff != "" {
		t.Errorf("the page signed with another key changed the catalog:\n%s", diff)
	}

	// With a trust list, unknown origins are refused, and a trusted one
	// is verified with the listed key whatever the page says.
	trusting, err := Open(ctx, Options{Path: filepath.Join(dir, "it.db"), Origin: "it", Key: testKey(4),
		Trusted: map[string]ed25519.PublicKey{"de": testKey(2).Public().(ed25519.PublicKey)}})
	if err != nil {
		t.Fatal(err)
	}
	forTrusting := pages(t, fr, trusting, 0)[0]
	if _, err := trusting.ApplyPage(ctx, forTrusting); !errors.As(err, &re) || re.Reason != RefusedUntrusted {
		t.Errorf("an origin the trust list does not name: %v", err)
	}
	trusting.trusted["fr"] = testKey(1).Public().(ed25519.PublicKey)
	forTrusting.PublicKey = nil // the trusted key is used
	if n, err := trusting.ApplyPage(ctx, forTrusting); err != nil || n != 6 {
		t.Errorf("a trusted origin: %d, %v", n, err)
	}

	// A trust list that gives fr another key than the one pinned here
	// wins it when the catalog opens (fr's member lost its key, and
	// started anew): fr's records signed with the old key are dropped, fr
	// has the list's key, and is pulled anew from seq 1, its new records
	// taken. One that gives the node's own origin another key than the
	// node's is refused.
	trusting.Close()
	var logs lockedbuf.Buffer
	trusting, err = Open(ctx, Options{Path: filepath.Join(dir, "it.db"), Origin: "it", Key: testKey(4), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Trusted: map[string]ed25519.PublicKey{"fr": testKey(9).Public().(ed25519.PublicKey), "de": testKey(2).Public().(ed25519.PublicKey)}})
	if err != nil {
		t.Fatal(err)
	}
	defer trusting.Close()
	if got := trusting.TrustedOrigins(); !slices.Equal(got, []string{"de", "fr"}) {
		t.Errorf("with a trust list at odds with the catalog for fr, the origins trusted: %v; want de and fr", got)
	}
	if key, err := trusting.OriginKey(ctx, "fr"); err != nil || !key.Equal(testKey(9).Public()) {
		t.Errorf("the key fr's members must show: %x, %v; want the trust list's", key, err)
	}
	if key, err := trusting.PinnedKey(ctx, "fr"); err != nil || !key.Equal(testKey(9).Public()) {
		t.Errorf("the key pinned for fr: %x, %v; want the trust list's", key, err)
	}
	if w, err := trusting.Watermark(ctx, "fr"); err != nil || w != 0 {
		t.Errorf("fr's watermark: %d, %v; want 0, fr pulled anew", w, err)
	}
	if ms, _, err := trusting.Search(ctx, Query{Kind: KindTool, Limit: 100, Filters: []Filter{{Facet: "origin", Values: []string{"fr"}}}}); err != nil || len(ms) != 0 {
		t.Errorf("fr's records under the old key: %d left, %v", len(ms), err)
	}
	if !strings.Contains(logs.String(), "records_dropped=6") {
		t.Errorf("the log says nothing of the records dropped:\n%s", logs.String())
	}
	anew := openAt(t, filepath.Join(dir, "fr-anew.db"), "fr", testKey(9))
	if _, err := anew.Apply(ctx, numberedCreates(2)); err != nil {
		t.Fatal(err)
	}
	if n, err := trusting.ApplyPage(ctx, pages(t, anew, trusting, 0)[0]); err != nil || n != 2 {
		t.Errorf("fr's records under the list's key: %d applied, %v", n, err)
	}
	_, err = Open(ctx, Options{Path: filepath.Join(dir, "own.db"), Origin: "it", Key: testKey(4),
		Trusted: map[string]ed25519.PublicKey{"it": testKey(9).Public().(ed25519.PublicKey)}})
	if err == nil || !strings.Contains(err.Error(), "gives this node's origin it the key") {
		t.Errorf("a trust list at odds with the node's own key: %v; want it refused", err)
	}
}

// TestWatermarkMovesToLastRecord checks that a page's end moves the
// watermark only as far as its last record, whatever the page says: a peer
// could otherwise move it past the origin's head, and shut the origin's
// next records out. A page of no records changes nothing, and pins no key.
func TestWatermarkMovesToLastRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	if _, err := fr.Apply(ctx, numberedCreates(5)); err != nil {
		t.Fatal(err)
	}
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	watermark := func(origin string) (int64, bool) {
		wms, err := de.Watermarks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := wms[origin]
		if one, err := de.Watermark(ctx, origin); err != nil || one != w {
			t.Fatalf("Watermark(%s) = %d, %v; Watermarks gives %d", origin, one, err, w)
		}
		return w, ok
	}

	p := pages(t, fr, de, 0)[0]
	p.ThroughSeq = 1 << 62
	if n, err := de.ApplyPage(ctx, p); err != nil || n != 5 {
		t.Fatalf("a page ending past its records: %d, %v; want its 5 records applied", n, err)
	}
	if w, _ := watermark("fr"); w != 5 {
		t.Fatalf("after a page ending past its last record (5), the watermark is %d", w)
	}
	empty := &federationv1.OriginPage{Origin: "fr", PublicKey: p.PublicKey, AfterSeq: 5, ThroughSeq: 1 << 62}
	if n, err := de.ApplyPage(ctx, empty); err != nil || n != 0 {
		t.Fatalf("a page of no records: %d, %v; want nothing applied, and no error", n, err)
	}
	if w, _ := watermark("fr"); w != 5 {
		t.Fatalf("after a page of no records, the watermark is %d, want 5", w)
	}
	stranger := &federationv1.OriginPage{Origin: "it", PublicKey: testKey(9).Public().(ed25519.PublicKey), ThroughSeq: 7}
	if n, err := de.ApplyPage(ctx, stranger); err != nil || n != 0 {
		t.Fatalf("a page of no records of an origin never seen: %d, %v", n, err)
	}
	if w, known := watermark("it"); known {
		t.Errorf("a page of no records made origin it known, at %d", w)
	}
	if k, err := de.PinnedKey(ctx, "it"); k != nil || err != nil {
		t.Errorf("a page of no records pinned %x, %v", k, err)
	}
	// The origin's next records come through.
	create(t, fr, "t5", tool("T5", "x"))
	if n := pull(t, fr, de, 0); n != 1 {
		t.Errorf("the origin's next record: %d applied, want 1", n)
	}
}

// TestPagesEndAtLastRecord checks what a node serves when it holds a newer
// version of the record at its watermark, as a node repairing a divergence
// may: every record it holds, its last page ending at the last record it
// sends, not at its watermark. (Served only up to its watermark, an origin
// two relays repaired at once was served by neither, for good.)
func TestPagesEndAtLastRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	relay := openAt(t, filepath.Join(dir, "relay.db"), "es", testKey(3))
	repairing := openAt(t, filepath.Join(dir, "repairing.db"), "de", testKey(2))
	replace := func(id, name string) {
		if _, err := fr.Apply(ctx, []Write{{Op: OpReplace, ID: id, Resource: tool(name, "x")}}); err != nil {
			t.Fatal(err)
		}
	}
	create(t, fr, "t1", tool("T1", "x")) // seq 1
	create(t, fr, "t2", tool("T2", "x")) // seq 2
	replace("t1", "T1 again")            // seq 3
	pull(t, fr, relay, 0)                // the relay: t2@2, t1@3, up to 3
	replace("t1", "T1 once more")        // seq 4
	pull(t, fr, repairing, 0)            // t2@2, t1@4, up to 4
	if err := repairing.ResetWatermark(ctx, "fr"); err != nil {
		t.Fatal(err)
	}
	pull(t, relay, repairing, 0) // both held, t1 in a newer version: up to 3
	if d := digests(t, repairing, "fr"); d.GetWatermark() != 3 {
		t.Fatalf("the repairing node is at %d, want 3", d.GetWatermark())
	}
	fresh := openAt(t, filepath.Join(dir, "fresh.db"), "it", testKey(4))
	ps := pages(t, repairing, fresh, 0)
	if len(ps) != 1 {
		t.Fatalf("the repairing node serves %d pages, want 1", len(ps))
	}
	if n, end := len(ps[0].GetRecords()), ps[0].GetThroughSeq(); n != 2 || end != 4 {
		t.Errorf("the repairing node serves a page of %d records ending at %d; want t2@2 and t1@4, ending at 4", n, end)
	}
}

func digestsAll(t *testing.T, s *Store) []*federationv1.OriginDigest {
	t.Helper()
	ds, err := s.Digests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(ds)
}

// TestBadSignatureInLargePage checks that a page of many records, verified
// in batches on several cores, is refused whatever batch holds the bad
// signature, and that the refusal names the first bad record.
// onePage returns a catalog of origin "de" and the page of n tools created
// by a catalog of origin "fr", for it.
func onePage(t *testing.T, n int) (*Store, *federationv1.OriginPage) {
	t.Helper()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	if _, err := fr.Apply(context.Background(), numberedCreates(n)); err != nil {
		t.Fatal(err)
	}
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	ps := pages(t, fr, de, MaxPageBytes)
	if len(ps) != 1 || len(ps[0].Records) != n {
		t.Fatalf("want one page of %d records", n)
	}
	return de, ps[0]
}

func TestBadSignatureInLargePage(t *testing.T) {
	ctx := context.Background()
	de, page := onePage(t, 2100)
	for _, bad := range [][]int{{0}, {255, 256}, {699, 700}, {1399, 1400}, {1500, 600}, {2099}, {1800, 1500}} {
		p := proto.Clone(page).(*federationv1.OriginPage)
		for _, i := range bad {
			p.Records[i].Signature[10] ^= 1
		}
		first := slices.Min(bad)
		var re *RefusedError
		_, err := de.ApplyPage(ctx, p)
		if !errors.As(err, &re) || re.Reason != RefusedBadSignature || !strings.HasPrefix(re.Detail, fmt.Sprintf("record %d (seq %d):", first, first+1)) {
			t.Errorf("bad signatures at %v: %v, want a refusal naming record %d", bad, err, first)
		}
	}
	if wms, _ := de.Watermarks(ctx); wms["fr"] != 0 {
		t.Errorf("the refused pages moved the watermark to %d", wms["fr"])
	}
	if n, err := de.ApplyPage(ctx, page); err != nil || n != 2100 {
		t.Errorf("the good page: %d, %v", n, err)
	}
}

// TestCancelledApplyChangesNothing cancels the application of a large page
// ever later, from before it starts to once it has committed: each attempt
// that fails says the context ended and leaves the catalog as it was, so
// that the next attempt, from the same watermark, is not refused.
func TestCancelledApplyChangesNothing(t *testing.T) {
	ctx := context.Background()
	de, page := onePage(t, 700)
	cp, err := de.CheckPage(ctx, page)
	if err != nil {
		t.Fatal(err)
	}
	cancelEverLater(t, func(attempt context.Context) error {
		n, err := de.ApplyChecked(attempt, cp)
		if err == nil && n != 700 {
			t.Fatalf("applied %d records, want 700", n)
		}
		return err
	}, func(delay time.Duration) {
		if wms, _ := de.Watermarks(ctx); wms["fr"] != 0 {
			t.Fatalf("cancelled after %v: the watermark moved to %d", delay, wms["fr"])
		}
		if _, err := de.Get(ctx, KindTool, "fr", "t0"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("cancelled after %v: the first record was stored: %v", delay, err)
		}
	})
	if d := digests(t, de, "fr"); d.GetWatermark() != 700 || d.GetCount() != 700 {
		t.Errorf("after the attempt that went through: %v", d)
	}
}

// TestPageWithSeveralVersions checks a page that holds several versions of
// one record, as a relay may send when it forwards what it received: a
// tool, its tombstone, then the tool created again. The search index ends
// with the last version, as the catalog does.
func TestPageWithSeveralVersions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	var versions []*federationv1.SignedRecord
	keep := func() {
		for _, p := range pages(t, fr, openAt(t, filepath.Join(t.TempDir(), "it.db"), "it", testKey(4)), 0) {
			versions = append(versions, p.GetRecords()[len(p.GetRecords())-1])
		}
	}
	create(t, fr, "decidim", tool("Decidim", "participation"))
	keep()
	if _, err := fr.Apply(ctx, []Write{{Op: OpDelete, Kind: KindTool, ID: "decidim"}}); err != nil {
		t.Fatal(err)
	}
	keep()
	create(t, fr, "decidim", tool("Decidim again", "participation"))
	keep()
	if len(versions) != 3 {
		t.Fatalf("kept %d versions, want 3", len(versions))
	}
	page := &federationv1.OriginPage{Origin: "fr", PublicKey: testKey(1).Public().(ed25519.PublicKey), ThroughSeq: 3, Records: versions}
	if _, err := de.ApplyPage(ctx, page); err != nil {
		t.Fatal(err)
	}
	got, err := de.Get(ctx, KindTool, "fr", "decidim")
	if err != nil || got.(*catalogv1.Tool).GetDisplayName() != "Decidim again" {
		t.Fatalf("de holds %v, %v", got, err)
	}
	total, _, err := de.Facets(ctx, Query{Kind: KindTool, Text: "participation"})
	if err != nil || total != 1 {
		t.Errorf("search finds %d tools, want 1 (%v)", total, err)
	}
}

// A replicated record's strings, and its tool's, are the bytes of the
// page it came in, not copies (protodecode.UnmarshalAliasing): the index
// and the links must copy what they keep of them, or every page stays in
// memory as long as the catalog. Once a page is applied and indexed,
// nothing keeps its records' bytes.
func TestIndexKeepsNoReplicatedBytes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	const n = 40
	ws := make([]Write, n)
	for i := range ws {
		ws[i] = Write{Op: OpCreate, ID: fmt.Sprintf("t%d", i), Resource: &catalogv1.Tool{
			// Lowercase already: ToLower gives the same string back, as
			// the sort key.
			DisplayName:   fmt.Sprintf("outil %d", i),
			Descriptions:  map[string]*catalogv1.Description{"fr": {ShortDescription: "participation", Features: []string{"pétitions"}}},
			RepositoryUrl: fmt.Sprintf("https://git.example.org/civic/tool-%d", i),
			LandingUrl:    fmt.Sprintf("https://tool-%d.example.org/", i),
			// Facet values new to the index with each tool.
			Categories:        []string{fmt.Sprintf("category-%d", i)},
			Platforms:         []string{fmt.Sprintf("platform-%d", i)},
			DevelopmentStatus: fmt.Sprintf("status-%d", i),
			License:           "AGPL-3.0-or-later",
		}}
	}
	if _, err := fr.Apply(ctx, ws); err != nil {
		t.Fatal(err)
	}
	ps := pages(t, fr, de, MaxPageBytes)
	if len(ps) != 1 {
		t.Fatalf("%d pages, want 1", len(ps))
	}
	var released atomic.Int32
	for _, sr := range ps[0].GetRecords() { // each its own memory, from proto.Clone
		runtime.AddCleanup(&sr.GetRecord()[0], func(released *atomic.Int32) { released.Add(1) }, &released)
	}
	cp, err := de.CheckPage(ctx, ps[0])
	if err != nil {
		t.Fatal(err)
	}
	if applied, err := de.ApplyChecked(ctx, cp); err != nil || applied != n {
		t.Fatalf("applied %d of %d: %v", applied, n, err)
	}
	if total, _, err := de.Facets(ctx, Query{Kind: KindTool, Text: "participation"}); err != nil || total != n {
		t.Fatalf("search finds %d tools, want %d (%v)", total, n, err)
	}
	cp, ps = nil, nil
	deadline := time.Now().Add(10 * time.Second)
	for released.Load() < n && time.Now().Before(deadline) {
		runtime.GC() // the cleanups run after a collection that finds the bytes unreachable
		runtime.Gosched()
	}
	if got := released.Load(); got < n {
		t.Errorf("the bytes of %d of %d replicated records are still kept once indexed", n-int(got), n)
	}
	// And the index has what it kept, whole.
	got, _, err := de.Search(ctx, Query{Kind: KindTool, Text: "participation", Filters: []Filter{{Facet: "category", Values: []string{"category-7"}}}, Limit: 10})
	if err != nil || len(got) != 1 || got[0].(*catalogv1.Tool).GetDisplayName() != "outil 7" {
		t.Errorf("search by category-7 finds %v (%v)", got, err)
	}
}

// TestOwnRecordsGivenBack wipes a node's catalog, its key kept: a peer
// gives it back its own records, above its head and under its key only,
// and its next write follows them.
func TestOwnRecordsGivenBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	for i := range 5 {
		create(t, fr, fmt.Sprintf("t%d", i), tool(fmt.Sprintf("T%d", i), "x"))
	}
	if _, err := fr.Apply(ctx, []Write{{Op: OpDelete, Kind: KindTool, ID: "t1"}}); err != nil {
		t.Fatal(err)
	}
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	for _, p := range pages(t, fr, de, 0) {
		if _, err := de.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	fr.Close()
	wiped := openAt(t, filepath.Join(dir, "wiped.db"), "fr", testKey(1))
	// ownPages is what de sends the wiped node: its own origin's records
	// above its head.
	ownPages := func() []*federationv1.OriginPage {
		wms, err := wiped.Watermarks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []*federationv1.OriginPage
		if err := de.ReadPages(ctx, PullSpec{Watermarks: map[string]int64{"fr": wms["fr"]}}, func(p *federationv1.OriginPage) error {
			out = append(out, proto.Clone(p).(*federationv1.OriginPage))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	ps := ownPages()
	if len(ps) != 1 {
		t.Fatalf("%d pages of fr's records for the wiped node, want 1", len(ps))
	}

	// Under another key, the page claiming it, they are refused.
	forged := proto.Clone(ps[0]).(*federationv1.OriginPage)
	forged.PublicKey = testKey(9).Public().(ed25519.PublicKey)
	for i, sr := range forged.Records {
		rec, _ := envelope.Parse(sr.Record)
		resealed, err := envelope.Seal(rec, testKey(9))
		if err != nil {
			t.Fatal(err)
		}
		forged.Records[i] = resealed
	}
	var re *RefusedError
	if _, err := wiped.ApplyPage(ctx, forged); !errors.As(err, &re) || re.Reason != RefusedOwnOrigin {
		t.Fatalf("the node's own records under another key: %v; want refused (%s)", err, RefusedOwnOrigin)
	}
	// A page that only claims another key is no news of the origin: its
	// records must verify under the key it claims, and a page of none
	// changes nothing.
	tampered := proto.Clone(forged).(*federationv1.OriginPage)
	tampered.Records[0].Signature[3] ^= 1
	if _, err := wiped.ApplyPage(ctx, tampered); !errors.As(err, &re) || re.Reason != RefusedBadSignature {
		t.Errorf("the node's origin under another key, a signature tampered: %v; want refused (%s)", err, RefusedBadSignature)
	}
	empty := &federationv1.OriginPage{Origin: "fr", PublicKey: forged.PublicKey}
	if n, err := wiped.ApplyPage(ctx, empty); n != 0 || err != nil {
		t.Errorf("a page of no records of the node's origin, under another key: %d, %v; want nothing, no error", n, err)
	}

	if n, err := wiped.ApplyPage(ctx, ps[0]); err != nil || n != 5 {
		t.Fatalf("its own records given back: %d applied, %v; want 5 (4 tools, a tombstone)", n, err)
	}
	if _, err := wiped.Get(ctx, KindTool, "fr", "t4"); err != nil {
		t.Errorf("t4 given back: %v", err)
	}
	if _, err := wiped.Get(ctx, KindTool, "fr", "t1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("t1, deleted, given back: %v; want not found", err)
	}
	// Given again, they are stale: a page must start at the node's head.
	if _, err := wiped.ApplyPage(ctx, ps[0]); !errors.As(err, &re) || re.Reason != RefusedStale {
		t.Errorf("its own records given twice: %v; want refused (%s)", err, RefusedStale)
	}
	if left := ownPages(); len(left) != 0 {
		t.Errorf("de still has %d pages of fr's records the wiped node lacks", len(left))
	}
	// The next write follows them, and reaches de.
	create(t, wiped, "t5", tool("T5", "x"))
	if wms, err := wiped.Watermarks(ctx); err != nil || wms["fr"] != 7 {
		t.Fatalf("after a write, the wiped node's head is %d, %v; want 7", wms["fr"], err)
	}
	for _, p := range pages(t, wiped, de, 0) {
		if _, err := de.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := de.Get(ctx, KindTool, "fr", "t5"); err != nil {
		t.Errorf("the wiped node's next write on de: %v", err)
	}
}

// TestOwnWritesHeld checks that the node's own writes wait while held,
// give up at their deadline, changing nothing, and go ahead once released;
// peers' pages are not held. Refused, as when the node stops, the writes
// held fail, and so do those after.
func TestOwnWritesHeld(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	create(t, fr, "t0", tool("T0", "x"))
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	hold := de.HoldOwnWrites()

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := de.Apply(short, []Write{{Op: OpCreate, ID: "early", Resource: tool("Early", "x")}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write while held, with a deadline: %v; want the deadline's error", err)
	}
	for _, p := range pages(t, fr, de, 0) {
		if _, err := de.ApplyPage(ctx, p); err != nil {
			t.Fatalf("a peer's page while the node's own writes are held: %v", err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := de.Apply(ctx, []Write{{Op: OpCreate, ID: "waited", Resource: tool("Waited", "x")}})
		done <- err
	}()
	hold.Release()
	hold.Release() // again: nothing
	hold.Refuse()  // after a release: nothing
	if err := <-done; err != nil {
		t.Fatalf("the write held, once released: %v", err)
	}
	if wms, err := de.Watermarks(ctx); err != nil || wms["de"] != 1 {
		t.Errorf("de's head: %d, %v; want 1: the write given up took no seq", wms["de"], err)
	}

	hold = de.HoldOwnWrites()
	go func() {
		_, err := de.Apply(ctx, []Write{{Op: OpCreate, ID: "refused", Resource: tool("Refused", "x")}})
		done <- err
	}()
	hold.Refuse()
	hold.Release() // after a refusal: nothing
	if err := <-done; !errors.Is(err, ErrUnavailable) {
		t.Fatalf("the write held, once refused: %v; want ErrUnavailable", err)
	}
	if _, err := de.Apply(ctx, []Write{{Op: OpCreate, ID: "after", Resource: tool("After", "x")}}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a write after the refusal: %v; want ErrUnavailable", err)
	}
	if wms, err := de.Watermarks(ctx); err != nil || wms["de"] != 1 {
		t.Errorf("de's head: %d, %v; want 1: the writes refused took no seq", wms["de"], err)
	}
}

// TestOwnForkRefused has a wiped node (its key kept) write before a peer
// gives back its records: the records given back at the seqs it wrote
// again are not its records there, and the page is refused as a fork,
// not taken for one another pull applied.
func TestOwnForkRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	for i := range 3 {
		create(t, fr, fmt.Sprintf("t%d", i), tool(fmt.Sprintf("T%d", i), "x"))
	}
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	for _, p := range pages(t, fr, de, 0) {
		if _, err := de.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	var given []*federationv1.OriginPage
	if err := de.ReadPages(ctx, PullSpec{Watermarks: map[string]int64{"fr": 0}}, func(p *federationv1.OriginPage) error {
		given = append(given, proto.Clone(p).(*federationv1.OriginPage))
		return nil
	}); err != nil || len(given) != 1 {
		t.Fatalf("%d pages of fr on de, %v", len(given), err)
	}
	wiped := openAt(t, filepath.Join(dir, "wiped.db"), "fr", testKey(1))
	create(t, wiped, "new", tool("New", "written before the records came back"))
	var re *RefusedError
	if _, err := wiped.ApplyPage(ctx, given[0]); !errors.As(err, &re) || re.Reason != RefusedForked {
		t.Fatalf("the node's records given back after it wrote at their seqs: %v; want refused (%s)", err, RefusedForked)
	}
	// A page given back twice, the node having written nothing between,
	// is only stale: another pull applied it.
	again := openAt(t, filepath.Join(dir, "again.db"), "fr", testKey(1))
	if _, err := again.ApplyPage(ctx, given[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := again.ApplyPage(ctx, given[0]); !errors.As(err, &re) || re.Reason != RefusedStale {
		t.Errorf("the node's records given back twice: %v; want refused (%s)", err, RefusedStale)
	}
}

// TestOriginFork has an origin sign two records at one seq, as one does
// that wrote again after its catalog was restored from an older copy: the
// digests of two nodes holding either record differ; a page bringing the
// other record of a seq the catalog holds (of the same id, of another, or
// to which a held record would move) is applied but for that record, whose
// held version stays, and the fork is told by ForkOf, not refused as the
// relay's fault.
func TestOriginFork(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	restored := openAt(t, filepath.Join(dir, "restored.db"), "fr", testKey(1)) // fr, from an empty copy
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	es := openAt(t, filepath.Join(dir, "es.db"), "es", testKey(3))

	// On fr, t1, t2 and t5 at seqs 1 to 3, reaching de. On the restored
	// catalog, t1 again at seq 1, other, then replaced at seq 2 (where de
	// holds t2); t3 at seq 3 (where de holds t5); t4 at seq 4; reaching es
	// (as pages do, with t1's version of seq 2 alone).
	create(t, fr, "t1", tool("Version A", "x"))
	create(t, fr, "t2", tool("Two", "x"))
	create(t, fr, "t5", tool("Five", "x"))
	pull(t, fr, de, 0)
	create(t, restored, "t1", tool("Version B", "x"))
	if _, err := restored.Apply(ctx, []Write{{Op: OpReplace, ID: "t1", Resource: tool("Version C", "x")}}); err != nil {
		t.Fatal(err)
	}
	create(t, restored, "t3", tool("Three", "x"))
	create(t, restored, "t4", tool("Four", "x"))
	pull(t, restored, es, 0)
	if _, forked := de.ForkOf("fr"); forked {
		t.Fatal("a fork before any was met")
	}

	// Two records of one seq give two signed hashes (the first hash, of
	// kinds, ids and seqs, which nodes before the signed one compare,
	// cannot tell).
	one, other := openAt(t, filepath.Join(dir, "one.db"), "it", testKey(4)), openAt(t, filepath.Join(dir, "other.db"), "it", testKey(4))
	create(t, one, "t1", tool("Version A", "x"))
	create(t, other, "t1", tool("Version B", "x"))
	if a, b := digests(t, one, "it"), digests(t, other, "it"); bytes.Equal(a.GetSignedHash(), b.GetSignedHash()) || !bytes.Equal(a.GetHash(), b.GetHash()) {
		t.Errorf("two records of one id and seq: signed hashes %x and %x, hashes %x and %x", a.GetSignedHash(), b.GetSignedHash(), a.GetHash(), b.GetHash())
	}
	// A node holding one, given the other, keeps its own.
	pull(t, one, de, 0)
	if err := de.ResetWatermark(ctx, "it"); err != nil {
		t.Fatal(err)
	}
	if n := pull(t, other, de, 0); n != 0 {
		t.Errorf("%d records applied of the other record of a seq held", n)
	}
	if fork, forked := de.ForkOf("it"); !forked || fork.Seq != 1 || fork.Held.ID != "t1" || fork.Sent.ID != "t1" {
		t.Errorf("the fork met: %+v %v, want t1 against t1 at seq 1", fork, forked)
	}
	if m, err := de.Get(ctx, KindTool, "it", "t1"); err != nil || m.(*catalogv1.Tool).GetDisplayName() != "Version A" {
		t.Errorf("de's t1 of it: %v %v, want Version A", m, err)
	}

	// de pulls fr again from the start (as a comparison with es would
	// make it), from es.
	if err := de.ResetWatermark(ctx, "fr"); err != nil {
		t.Fatal(err)
	}
	for _, p := range pages(t, es, de, 0) {
		if p.GetOrigin() != "fr" {
			continue
		}
		if _, err := de.ApplyPage(ctx, p); err != nil {
			t.Fatalf("a page of the forked origin from a relay: %v", err)
		}
	}
	fork, forked := de.ForkOf("fr")
	if !forked || fork.Seq != 2 || fork.Held.ID != "t2" || fork.Sent.ID != "t1" {
		t.Errorf("the fork met: %+v %v, want the t2 held against t1 at seq 2", fork, forked)
	}
	// de keeps what it held of seqs 1 to 3, and takes t4.
	for id, want := range map[string]string{"t1": "Version A", "t2": "Two", "t5": "Five", "t4": "Four"} {
		m, err := de.Get(ctx, KindTool, "fr", id)
		if err != nil || m.(*catalogv1.Tool).GetDisplayName() != want {
			t.Errorf("de's %s: %v %v, want %q", id, m, err, want)
		}
	}
	if _, err := de.Get(ctx, KindTool, "fr", "t3"); err == nil {
		t.Error("de took t3, at the seq of the t5 it holds")
	}
	if wm, err := de.Watermark(ctx, "fr"); err != nil || wm != 4 {
		t.Errorf("de's watermark of fr: %d %v, want 4", wm, err)
	}
	if d := digests(t, de, "fr"); bytes.Equal(d.GetSignedHash(), digests(t, es, "fr").GetSignedHash()) {
		t.Error("de's digest of fr is es's, though they hold other records")
	}
	assertDigestsRecomputed(t, de)
}

// assertDigestsRecomputed checks that the digests s kept write by write
// are those computed from its records.
func assertDigestsRecomputed(t *testing.T, s *Store) {
	t.Helper()
	before := digestsAll(t, s)
	if _, err := s.writer.Exec("UPDATE origins SET digest = NULL, signed_digest = NULL, record_count = 0"); err != nil {
		t.Fatal(err)
	}
	if err := s.computeDigests(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, digestsAll(t, s), protocmp.Transform()); diff != "" {
		t.Errorf("kept digests differ from recomputed ones:\n%s", diff)
	}
}

// TestDenseRecordsReplicate replicates the records the API takes that
// hold the most messages for their size (a hundred contacts of one letter,
// a hundred languages of one-letter descriptions): no bound on a peer's
// records refuses them.
func TestDenseRecordsReplicate(t *testing.T) {
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	tl := tool("Dense", "x")
	tl.Maintenance = &catalogv1.Maintenance{Type: "community"}
	for i := range validate.MaxListItems {
		tl.Maintenance.Contacts = append(tl.Maintenance.Contacts, &catalogv1.Contact{Name: string(rune('a' + i%26))})
		tl.Maintenance.Contractors = append(tl.Maintenance.Contractors, &catalogv1.Contractor{Name: string(rune('a' + i%26))})
	}
	tl.Descriptions = map[string]*catalogv1.Description{}
	for i := range validate.MaxListItems {
		tl.Descriptions[fmt.Sprintf("x-%c%c", 'a'+i/26, 'a'+i%26)] = &catalogv1.Description{ShortDescription: "x"}
	}
	var v validate.Violations
	validate.Tool(&v, "tool", tl)
	if len(v.List) > 0 {
		t.Fatalf("the API would refuse the tool: %v", v.List)
	}
	create(t, fr, "dense", tl)
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	if n := pull(t, fr, de, 0); n != 1 {
		t.Fatalf("%d records replicated", n)
	}
}

// TestRecordsOfATimeThatIsNoneRepaired: a record an earlier version
// stored with a time that is none (past the year 9999: a client that gave
// milliseconds as seconds) is read and listed without it; peers refuse the
// page that holds it, and so every later record of its origin, until its
// node writes it anew without it once it opens, which it does, leaving a
// record changed since as it is.
func TestRecordsOfATimeThatIsNoneRepaired(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "fr.db")
	fr := openAt(t, path, "fr", testKey(1))
	for _, id := range []string{"bad", "changed"} {
		bad := tool("Bad "+id, "A tool of a harvest time past 9999")
		bad.Provenance = &catalogv1.Provenance{Source: "csv:/srv/tools.csv", SourceId: id, HarvestTime: &timestamppb.Timestamp{Seconds: 1796403283463}}
		create(t, fr, id, bad) // as nodes before 2026-12-03 took it
	}
	create(t, fr, "good", tool("Good", "A tool written after it"))
	fr.Close()

	fr = openAt(t, path, "fr", testKey(1))
	got, err := fr.Get(ctx, KindTool, "fr", "bad")
	if err != nil || got.(*catalogv1.Tool).GetProvenance().GetHarvestTime() != nil || got.(*catalogv1.Tool).GetProvenance().GetSourceId() != "bad" {
		t.Fatalf("the tool of a time that is none: %v, %v; want it without the time", got, err)
	}
	if _, total, err := fr.Search(ctx, Query{Kind: KindTool, Order: "name", Limit: 10}); err != nil || total != 3 {
		t.Errorf("the listing: %d tools, %v", total, err)
	}
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	var re *RefusedError
	for _, p := range pages(t, fr, de, 0) {
		if _, err := de.ApplyPage(ctx, p); !errors.As(err, &re) || re.Reason != RefusedMalformed {
			t.Fatalf("a page holding the record of a time that is none: %v; want it refused as malformed", err)
		}
	}
	changed, err := fr.Get(ctx, KindTool, "fr", "changed")
	if err != nil {
		t.Fatal(err)
	}
	changed.(*catalogv1.Tool).DisplayName = "Changed"
	if _, err := fr.Apply(ctx, []Write{{Op: OpReplace, ID: "changed", Resource: changed}}); err != nil {
		t.Fatalf("a write of a tool read without its time that is none: %v", err)
	}
	if n, err := fr.RepairTimes(ctx); err != nil || n != 1 {
		t.Fatalf("RepairTimes: %d, %v; want the one record not written since", n, err)
	}
	if n := pull(t, fr, de, 0); n != 3 {
		t.Errorf("de took %d records of fr, want 3", n)
	}
	repaired, err := de.Get(ctx, KindTool, "fr", "bad")
	if err != nil || repaired.(*catalogv1.Tool).GetProvenance().GetSourceId() != "bad" || repaired.(*catalogv1.Tool).GetCreateTime() == nil {
		t.Errorf("the tool written anew, on de: %v, %v", repaired, err)
	}
	if n, err := fr.RepairTimes(ctx); err != nil || n != 0 {
		t.Errorf("RepairTimes again: %d, %v; want nothing", n, err)
	}
}

// TestPinnedKeys: a pin file's key for an origin takes the place of the
// key pinned (its records of the other dropped), pins an origin met yet,
// and refuses no other origin; one for the node's own origin other than
// its key, or one the trust list gives another, is refused.
func TestPinnedKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	if _, err := fr.Apply(ctx, numberedCreates(3)); err != nil {
		t.Fatal(err)
	}
	it := openAt(t, filepath.Join(dir, "it.db"), "it", testKey(4))
	for _, p := range pages(t, fr, it, 0) {
		if _, err := it.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	it.Close()
	pub := func(i byte) ed25519.PublicKey { return testKey(i).Public().(ed25519.PublicKey) }
	it, err := Open(ctx, Options{Path: filepath.Join(dir, "it.db"), Origin: "it", Key: testKey(4), Pinned: map[string]ed25519.PublicKey{"fr": pub(9), "de": pub(2)}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for origin, want := range map[string]ed25519.PublicKey{"fr": pub(9), "de": pub(2)} {
		if key, err := it.PinnedKey(ctx, origin); err != nil || !key.Equal(want) {
			t.Errorf("the key pinned for %s: %x, %v; want %x", origin, key, err, want)
		}
	}
	if w, err := it.Watermark(ctx, "fr"); err != nil || w != 0 {
		t.Errorf("fr's watermark: %d, %v; want 0", w, err)
	}
	if !it.Accepts("es") {
		t.Error("a pin file refuses the origins it does not name")
	}
	for name, opts := range map[string]Options{
		"the node's own origin":        {Origin: "it", Key: testKey(4), Pinned: map[string]ed25519.PublicKey{"it": pub(9)}},
		"another key than the trust's": {Origin: "it", Key: testKey(4), Pinned: map[string]ed25519.PublicKey{"fr": pub(9)}, Trusted: map[string]ed25519.PublicKey{"fr": pub(8)}},
	} {
		opts.Path = filepath.Join(t.TempDir(), "other.db")
		if s, err := Open(ctx, opts); err == nil {
			s.Close()
			t.Errorf("a pin file of %s: opened", name)
		}
	}
}

// TestPageBlobsAreTheirOwn holds the SQLite driver to what readOriginPage
// takes of it: each blob a row hands is a slice of its own, which no later
// row (of the page, or of the next) writes over.
func TestPageBlobsAreTheirOwn(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for i := range 30 {
		create(t, s, fmt.Sprintf("tool-%d", i), tool(fmt.Sprintf("Outil %d", i), strings.Repeat("participation citoyenne ", i)))
	}
	for _, limit := range []int{MaxPageBytes, 2 << 10} {
		var kept []*federationv1.OriginPage // as read, not copied
		if err := s.ReadPages(ctx, PullSpec{AllOrigins: true, MaxPageBytes: limit}, func(p *federationv1.OriginPage) error {
			kept = append(kept, p)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if limit < MaxPageBytes && len(kept) < 3 {
			t.Fatalf("%d pages of 2 KiB, want several", len(kept))
		}
		var records []*federationv1.SignedRecord
		for _, p := range kept {
			records = append(records, p.GetRecords()...)
		}
		if len(records) != 30 {
			t.Fatalf("%d records read, want 30", len(records))
		}
		for i, sr := range records {
			var want []byte
			if err := s.reader.QueryRowContext(ctx, "SELECT record FROM records WHERE origin = 'fr' AND seq = ?", i+1).Scan(&want); err != nil {
				t.Fatal(err)
			}
			rec, err := envelope.Open(sr, testKey(1).Public().(ed25519.PublicKey))
			if err != nil || rec.GetSeq() != int64(i+1) || !bytes.Equal(sr.GetRecord(), want) {
				t.Fatalf("record %d of the pages read with a %d-byte limit: %v (seq %d), not the row of seq %d", i, limit, err, rec.GetSeq(), i+1)
			}
		}
	}
}

// endingCtx is a context whose Err says Canceled from its n-th call on
// (its Done never closes): a pull's context that ends while a page is
// read, at a place no test could otherwise choose.
type endingCtx struct {
	context.Context
	calls atomic.Int32
	n     int32
}

func (c *endingCtx) Err() error {
	if c.calls.Add(1) >= c.n {
		return context.Canceled
	}
	return nil
}

// TestPageReadStopsWhenThePullEnds: a pull whose context ends while a page
// is read stops reading it, as database/sql's rows did, rather than read
// the page to its end.
func TestPageReadStopsWhenThePullEnds(t *testing.T) {
	s, _ := openTest(t)
	for i := range 300 {
		create(t, s, fmt.Sprintf("tool-%d", i), tool(fmt.Sprintf("Outil %d", i), "participation"))
	}
	ctx := &endingCtx{Context: context.Background(), n: 100}
	emitted := 0
	err := s.ReadPages(ctx, PullSpec{AllOrigins: true}, func(p *federationv1.OriginPage) error {
		emitted += len(p.GetRecords())
		return nil
	})
	if !errors.Is(err, context.Canceled) || emitted != 0 {
		t.Errorf("a pull ended while its page of 300 records was read: %d records sent, %v", emitted, err)
	}
}
