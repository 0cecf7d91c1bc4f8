package storage

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"google.golang.org/protobuf/proto"
)

// TestRepairOwnFork restores fr from a copy older than its last writes,
// which de holds, and has it write again before de gives them back: two
// histories of fr. Repairing the fork with de's records writes again, at
// seqs past de's head, what either side cannot pull of the other's: fr's
// records at seqs de holds otherwise or stands past, and the writes fr
// lost (an update, a delete, a create). Once de pulls them, both hold the
// same records of fr, the later version of each id; a second repair
// writes nothing, and fr's next write follows.
func TestRepairOwnFork(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	for _, id := range []string{"t0", "t1", "t2"} {
		create(t, fr, id, tool("T "+id, "before the copy"))
	}
	var copied []*federationv1.OriginPage // what the copy holds: fr's first three records
	if err := fr.ReadPages(ctx, PullSpec{Watermarks: map[string]int64{"fr": 0}}, func(p *federationv1.OriginPage) error {
		copied = append(copied, proto.Clone(p).(*federationv1.OriginPage))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Written after the copy, and lost: t0 updated (4), t1 deleted (5),
	// t3 created (6).
	if _, err := fr.Apply(ctx, []Write{{Op: OpReplace, ID: "t0", Resource: tool("T t0", "after the copy")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := fr.Apply(ctx, []Write{{Op: OpDelete, Kind: KindTool, ID: "t1"}}); err != nil {
		t.Fatal(err)
	}
	create(t, fr, "t3", tool("T t3", "after the copy"))
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	pull(t, fr, de, 0)
	fr.Close()

	restored := openAt(t, filepath.Join(dir, "restored.db"), "fr", testKey(1))
	applyAll(t, copied, restored)
	// Written again at seqs de holds: t2 updated (4), t4 created (5).
	if _, err := restored.Apply(ctx, []Write{{Op: OpReplace, ID: "t2", Resource: tool("T t2", "after the restore")}}); err != nil {
		t.Fatal(err)
	}
	create(t, restored, "t4", tool("T t4", "after the restore"))

	repair := func() int {
		t.Helper()
		fork := restored.NewOwnFork()
		if err := de.ReadPages(ctx, PullSpec{Watermarks: map[string]int64{"fr": 0}, MaxPageBytes: 1}, func(p *federationv1.OriginPage) error {
			cp, err := restored.CheckPage(ctx, p)
			if err != nil {
				return err
			}
			return fork.Add(ctx, cp)
		}); err != nil {
			t.Fatal(err)
		}
		n, err := restored.RepairOwnFork(ctx, fork)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := repair(); n != 5 {
		t.Errorf("the repair wrote %d records again, want 5 (t0, t1, t2, t3, t4)", n)
	}
	if wms, _ := restored.Watermarks(ctx); wms["fr"] != 11 {
		t.Errorf("fr's head after the repair: %d, want 11 (de's head 6, and 5 records)", wms["fr"])
	}
	pull(t, restored, de, 0)
	frDigest, deDigest := digests(t, restored, "fr"), digests(t, de, "fr")
	if frDigest.GetCount() != 5 || !bytes.Equal(frDigest.GetSignedHash(), deDigest.GetSignedHash()) || frDigest.GetCount() != deDigest.GetCount() {
		t.Errorf("after the repair, fr's digest of its origin %v, de's %v: want the same, of 5 records", frDigest, deDigest)
	}
	for _, s := range []*Store{restored, de} {
		for id, want := range map[string]string{"t0": "after the copy", "t2": "after the restore", "t3": "after the copy", "t4": "after the restore"} {
			m, err := s.Get(ctx, KindTool, "fr", id)
			if err != nil || m.(*catalogv1.Tool).GetDescriptions()["en"].GetShortDescription() != want {
				t.Errorf("%s's %s: %v %v, want the version written %s", s.Origin(), id, m, err, want)
			}
		}
		if _, err := s.Get(ctx, KindTool, "fr", "t1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s's t1, deleted after the copy: %v, want not found", s.Origin(), err)
		}
		if got, err := s.Search(ctx, Query{Kind: KindTool, Text: "restore", Limit: 10}); err != nil || len(got) != 2 {
			t.Errorf("%s finds %v by the words of the writes after the restore, want t2 and t4", s.Origin(), got)
		}
	}
	if n := repair(); n != 0 {
		t.Errorf("a second repair wrote %d records again, want none", n)
	}
	out := create(t, restored, "t5", tool("T t5", "after the repair"))
	if seq := out.(*catalogv1.Tool).GetSeq(); seq != 12 {
		t.Errorf("fr's write after the repair took seq %d, want 12", seq)
	}
}

// TestOwnForkAddRefuses checks that an OwnFork takes only the pages of
// the node's own origin, in order from the start.
func TestOwnForkAddRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	for _, id := range []string{"t0", "t1"} {
		create(t, fr, id, tool("T "+id, "x"))
	}
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	pull(t, fr, de, 0)
	create(t, de, "d0", tool("D", "x"))
	restored := openAt(t, filepath.Join(dir, "restored.db"), "fr", testKey(1))
	var frPages, dePages []*CheckedPage
	if err := de.ReadPages(ctx, PullSpec{AllOrigins: true, MaxPageBytes: 1}, func(p *federationv1.OriginPage) error {
		cp, err := restored.CheckPage(ctx, p)
		if err != nil {
			return err
		}
		if cp.Origin() == "fr" {
			frPages = append(frPages, cp)
		} else {
			dePages = append(dePages, cp)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(frPages) != 2 || len(dePages) != 1 {
		t.Fatalf("%d pages of fr, %d of de; want 2 and 1", len(frPages), len(dePages))
	}
	var re *RefusedError
	if err := restored.NewOwnFork().Add(ctx, dePages[0]); !errors.As(err, &re) || re.Reason != RefusedMalformed {
		t.Errorf("a page of another origin: %v; want refused (%s)", err, RefusedMalformed)
	}
	if err := restored.NewOwnFork().Add(ctx, frPages[1]); !errors.As(err, &re) || re.Reason != RefusedGap {
		t.Errorf("a page not starting at 0: %v; want refused (%s)", err, RefusedGap)
	}
}

func applyAll(t *testing.T, ps []*federationv1.OriginPage, to *Store) {
	t.Helper()
	for _, p := range ps {
		if _, err := to.ApplyPage(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
}
