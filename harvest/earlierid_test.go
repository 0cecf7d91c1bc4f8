package harvest

import (
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestEntryHarvestedUnderAnEarlierIDComesBackUnderIt: a tool a harvest
// of an earlier version made from the name "«2030 Agenda»" has the id
// t--2030-agenda (the id IDFrom gave then; t-2030-agenda now). Its entry
// leaves the source (its tool deleted, the tombstone the entry's) and
// comes back: as any entry does (TestImportEntryThatComesAndGoes), it
// takes its own tombstone's id again, not a new one.
func TestEntryHarvestedUnderAnEarlierIDComesBackUnderIt(t *testing.T) {
	ctx := t.Context()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	req := request("city", true, entry("a", "«2030 Agenda»", "x"))
	entries, rejected, err := im.prepareEntries(ctx, req.GetSource(), req.GetEntries())
	if err != nil || len(rejected) > 0 || len(entries) != 1 {
		t.Fatalf("prepare: %v %v", rejected, err)
	}
	// What the importer of an earlier version wrote: the same tool and
	// mark, under its id of then.
	const old = "t--2030-agenda"
	if _, err := s.ApplyHarvest(ctx, "city", func(tx *storage.HarvestTx) (storage.HarvestPlan, error) {
		e := entries[0]
		tool := proto.Clone(e.tool).(*catalogv1.Tool)
		tool.Provenance.HarvestTime = timestamppb.Now()
		tool.Provenance.EntryHash = e.hash
		return storage.HarvestPlan{
			Writes: []storage.Write{{Op: storage.OpCreate, ID: old, Resource: tool}},
			Marks:  []storage.HarvestMark{{SourceID: e.sourceID, ID: old, Hash: e.hash, Write: 0}},
		}, nil
	}); err != nil {
		t.Fatal(err)
	}
	mustImport(t, im, req, "created 0 updated 0 unchanged 1 deleted 0 rejected 0 kept 0") // found while listed
	emptied := request("city", true)
	emptied.Source.AllowEmpty = true
	mustImport(t, im, emptied, "created 0 updated 0 unchanged 0 deleted 1 rejected 0 kept 0")
	mustImport(t, im, req, "created 1 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	if _, err := s.Get(ctx, storage.KindTool, "fr", old); err != nil {
		m, _ := s.Get(ctx, storage.KindTool, "fr", "t-2030-agenda")
		t.Errorf("the entry came back, not under its own id %s (%v), but as %v", old, err, m.(*catalogv1.Tool).GetName())
	}
}
