package node

import (
	"context"
	"testing"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// signedTool is the tool id of the node's origin as it was signed: what
// peers receive.
func signedTool(t *testing.T, n *testNode, id string) *catalogv1.Tool {
	t.Helper()
	var found *catalogv1.Tool
	err := n.store.ReadPages(context.Background(), storage.PullSpec{AllOrigins: true}, func(p *federationv1.OriginPage) error {
		for _, sr := range p.GetRecords() {
			rec, err := envelope.Parse(sr.GetRecord())
			if err != nil {
				return err
			}
			if rec.GetId() == id && !rec.GetDeleted() {
				found = &catalogv1.Tool{}
				if err := proto.Unmarshal(rec.GetResource(), found); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == nil {
		t.Fatalf("no signed record of %s", id)
	}
	return found
}

// TestUpdateSignsNoQualification: the qualification is computed by each
// node from what it holds, not part of the signed record. An update
// starts from the record as read, which has this node's: it must not
// sign it, and every peer keep it.
func TestUpdateSignsNoQualification(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	if _, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "decidim", Tool: validTool()}); err != nil {
		t.Fatal(err)
	}
	if q := signedTool(t, n, "decidim").GetQualification(); q != nil {
		t.Fatalf("the create signed a qualification: %v", q)
	}
	updated, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{
		Tool:       &catalogv1.Tool{Name: "origins/fr/tools/decidim", DevelopmentStatus: "stable"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"development_status"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if q := signedTool(t, n, "decidim").GetQualification(); q != nil {
		t.Errorf("the update signed this node's qualification into the record (score %d, %d criteria)", q.GetScore(), len(q.GetCriteria()))
	}
	if updated.GetQualification() == nil {
		t.Error("the update's answer has no qualification")
	}
	got, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/decidim"})
	if err != nil || got.GetQualification() == nil {
		t.Errorf("the tool read after the update: %v, qualification %v", err, got.GetQualification())
	}
}

// TestNestedMaskThatChangesNothingWritesNothing: clearing a field of a
// message the tool does not have ("maintenance.type" on a tool without
// maintenance) changes nothing, so it writes no version: no seq, no new
// etag to break other clients' conditional updates.
func TestNestedMaskThatChangesNothingWritesNothing(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	created, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "decidim", Tool: validTool()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		tool *catalogv1.Tool
	}{
		{"no maintenance sent", &catalogv1.Tool{Name: "origins/fr/tools/decidim"}},
		{"an empty maintenance sent", &catalogv1.Tool{Name: "origins/fr/tools/decidim", Maintenance: &catalogv1.Maintenance{}}},
	} {
		got, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: tc.tool, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"maintenance.type"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetSeq() != created.GetSeq() || got.GetEtag() != created.GetEtag() || got.GetMaintenance() != nil {
			t.Errorf("%s: an update that changes nothing wrote a version: seq %d -> %d, etag %s -> %s, maintenance %v",
				tc.what, created.GetSeq(), got.GetSeq(), created.GetEtag(), got.GetEtag(), got.GetMaintenance())
		}
	}
	// A sub-field set still makes the message.
	got, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{
		Tool:       &catalogv1.Tool{Name: "origins/fr/tools/decidim", Maintenance: &catalogv1.Maintenance{Type: "community"}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"maintenance.type"}},
	})
	if err != nil || got.GetMaintenance().GetType() != "community" || got.GetSeq() == created.GetSeq() {
		t.Errorf("maintenance.type set: %v, %v", err, got)
	}
}
