package harvest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/storage"
)

// folderSource is a folder of publiccode.yml files, one a sub-folder, and
// write puts text as the file of sub-folder dir.
func folderSource(t *testing.T) (src Source, write func(dir, text string)) {
	t.Helper()
	root := t.TempDir()
	write = func(dir, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dir, "publiccode.yml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := Source{Location: root}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return src, write
}

// medusa is the corpus' publiccode.yml of Medusa, its repository URL, and
// the URL spelled otherwise (the same repository).
func medusa(t *testing.T) (file, url, respelled string) {
	return string(readFile(t, corpus(t, "publiccode/v0/valid/categories_other.yml"))),
		"https://github.com/italia/developers.italia.it.git", "https://github.com/Italia/developers.italia.it"
}

// TestRejectedRespelledEntryKeepsItsTool: one commit respells a file's
// repository URL and breaks the file. The entry is rejected, and
// rejected entries keep their tools; its tool was deleted, the old
// spelling taken for an entry gone, and came back under another id once
// the file was mended, its links and use cases lost.
func TestRejectedRespelledEntryKeepsItsTool(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	file, url, respelled := medusa(t)
	src, write := folderSource(t)
	write("medusa", file)
	write("other", strings.Replace(strings.Replace(file, url, "https://github.com/italia/other-app", 1), "name: Medusa", "name: Other app", 1))
	if run, err := im.Import(ctx, Read(ctx, src, ReadOptions{})); err != nil || run.GetCreated() != 2 {
		t.Fatalf("first run: %v, %v", counts(run), err)
	}
	write("medusa", strings.Replace(strings.Replace(file, url, respelled, 1), "developmentStatus: development", "developmentStatus: nearly-done", 1))
	run, err := im.Import(ctx, Read(ctx, src, ReadOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if run.GetDeleted() != 0 || run.GetRejected() != 1 || toolCount(t, s) != 2 {
		t.Errorf("the rejected, respelled entry: %s, %d tools; want its tool kept", counts(run), toolCount(t, s))
	}
}

// TestSecondFileOfOneRepositoryMakesNoSecondTool: a folder's file of
// repository R was harvested; a second file of R is added, R's URL
// spelled otherwise, and sorts first. It is taken, the first rejected as
// its duplicate: it is R's entry, whose tool it updates, not a second
// tool of R beside one frozen for good.
func TestSecondFileOfOneRepositoryMakesNoSecondTool(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	file, url, respelled := medusa(t)
	src, write := folderSource(t)
	write("b", file)
	if run, err := im.Import(ctx, Read(ctx, src, ReadOptions{})); err != nil || run.GetCreated() != 1 {
		t.Fatalf("first run: %v, %v", counts(run), err)
	}
	write("a", strings.Replace(file, url, respelled, 1))
	run, err := im.Import(ctx, Read(ctx, src, ReadOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if n := toolCount(t, s); n != 1 || run.GetCreated() != 0 {
		t.Errorf("%d tools of one repository (%s), want 1", n, counts(run))
	}
	if run, err = im.Import(ctx, Read(ctx, src, ReadOptions{})); err != nil || run.GetDeleted() != 0 || run.GetCreated() != 0 || toolCount(t, s) != 1 {
		t.Errorf("the next run: %s, %d tools, %v", counts(run), toolCount(t, s), err)
	}
}

// TestRespelledEntryWhenThePlanRunsAgain: an authoritative source brings
// back a tool deleted by hand (a write on a tombstone, which makes the
// store run the plan again) and, in the same run, respells an entry's id.
// The first attempt marked the old spelling listed in the map the second
// started from: the entry was taken for a new one, a second tool made,
// and the next run deleted the first.
func TestRespelledEntryWhenThePlanRunsAgain(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	req := func(entries ...*catalogv1.HarvestEntry) *catalogv1.ImportHarvestRequest {
		r := request("registry", true, entries...)
		r.Source.Authoritative = true
		return r
	}
	mustImport(t, im, req(entry("https://github.com/Decidim/decidim", "Decidim", "x"), entry("b", "Beta", "y")),
		"created 2 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	if _, err := s.Apply(ctx, []storage.Write{{Op: storage.OpDelete, Kind: storage.KindTool, ID: "beta"}}); err != nil {
		t.Fatal(err)
	}
	respelled := req(entry("https://github.com/decidim/decidim", "Decidim", "x"), entry("b", "Beta", "y"))
	if _, err := im.Import(ctx, respelled); err != nil {
		t.Fatal(err)
	}
	if n := toolCount(t, s); n != 2 {
		t.Errorf("%d tools, want Decidim and Beta", n)
	}
	run, err := im.Import(ctx, respelled)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, storage.KindTool, "fr", "decidim"); err != nil || run.GetDeleted() != 0 {
		t.Errorf("the next run of the same source: %s; decidim: %v", counts(run), err)
	}
}

// TestBroughtBackUnderAnotherIdTakesAFreeOne: an authoritative source's
// entry, deleted by hand and its id taken since by a tool typed in, is
// brought back under another id. Of its new name's ids, the one of a live
// tool failed the whole source at every run ("already exists"), and the
// one of a tombstone was taken, which a peer that missed the delete could
// confuse with the tool deleted.
func TestBroughtBackUnderAnotherIdTakesAFreeOne(t *testing.T) {
	for _, tombstone := range []bool{false, true} {
		ctx := context.Background()
		s := openStore(t)
		im := NewImporter(s, nil, quietLog())
		manual := func(id, name string) {
			t.Helper()
			tool := &catalogv1.Tool{DisplayName: name, Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "typed in"}},
				Provenance: &catalogv1.Provenance{Kind: catalogv1.ProvenanceKind_PROVENANCE_KIND_MANUAL}}
			if _, err := s.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: id, Resource: tool}}); err != nil {
				t.Fatal(err)
			}
		}
		req := func(entries ...*catalogv1.HarvestEntry) *catalogv1.ImportHarvestRequest {
			r := request("registry", true, entries...)
			r.Source.Authoritative = true
			return r
		}
		manual("gamma", "Gamma")
		if tombstone {
			if _, err := s.Apply(ctx, []storage.Write{{Op: storage.OpDelete, Kind: storage.KindTool, ID: "gamma"}}); err != nil {
				t.Fatal(err)
			}
		}
		mustImport(t, im, req(entry("x", "Alpha", "From the registry")), "created 1 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
		if _, err := s.Apply(ctx, []storage.Write{{Op: storage.OpDelete, Kind: storage.KindTool, ID: "alpha"}}); err != nil {
			t.Fatal(err)
		}
		manual("alpha", "Alpha")
		for i := range 2 {
			if _, err := im.Import(ctx, req(entry("x", "Gamma", "From the registry, renamed"))); err != nil {
				t.Fatalf("gamma a tombstone %v, run %d of the source: %v", tombstone, i+1, err)
			}
		}
		gamma, err := s.Get(ctx, storage.KindTool, "fr", "gamma")
		switch {
		case tombstone && err == nil:
			t.Error("the entry was brought back on the id of the tombstone gamma")
		case !tombstone && (err != nil || gamma.(*catalogv1.Tool).GetDescriptions()["en"].GetShortDescription() != "typed in"):
			t.Errorf("the curator's gamma: %v, %v", gamma, err)
		}
		if n := toolCount(t, s); n != 3-boolInt(tombstone) {
			t.Errorf("gamma a tombstone %v: %d tools", tombstone, n)
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
