package node

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	"github.com/ogptoolbox/federation/validate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
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
// maintenance), or setting the entry hash of a tool no harvest wrote
// (the API drops it), changes nothing, so it writes no version: no seq,
// no new etag to break other clients' conditional updates.
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
	// The entry hash of a tool no harvest wrote is the API's to drop: a
	// client's changes nothing either.
	got, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{
		Tool:       &catalogv1.Tool{Name: "origins/fr/tools/decidim", Provenance: &catalogv1.Provenance{Kind: catalogv1.ProvenanceKind_PROVENANCE_KIND_MANUAL, EntryHash: []byte("x")}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"provenance.entry_hash"}},
	})
	if err != nil || got.GetSeq() != created.GetSeq() || got.GetEtag() != created.GetEtag() {
		t.Errorf("an update of the entry hash alone wrote a version: seq %d -> %d, %v", created.GetSeq(), got.GetSeq(), err)
	}
	// A sub-field set still makes the message.
	got, err = n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{
		Tool:       &catalogv1.Tool{Name: "origins/fr/tools/decidim", Maintenance: &catalogv1.Maintenance{Type: "community"}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"maintenance.type"}},
	})
	if err != nil || got.GetMaintenance().GetType() != "community" || got.GetSeq() == created.GetSeq() {
		t.Errorf("maintenance.type set: %v, %v", err, got)
	}
}

// TestUpdateWithoutMaskChangesTheFieldsSent: a gRPC client that sends a
// tool's new license alone, and no mask, changes its license and nothing
// else (AIP-134's implied mask), as a PATCH does over REST; a replacement
// would have wiped its name, descriptions and links. "*" replaces it whole.
func TestUpdateWithoutMaskChangesTheFieldsSent(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	created, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "decidim", Tool: validTool()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: &catalogv1.Tool{Name: created.GetName(), License: "MIT"}})
	if err != nil {
		t.Fatal(err)
	}
	want := proto.Clone(created).(*catalogv1.Tool)
	want.License = "MIT"
	if got.GetLicense() != "MIT" || got.GetDisplayName() != want.GetDisplayName() || !proto.Equal(withoutOutputOnly(got), withoutOutputOnly(want)) {
		t.Errorf("an update of the license alone, without a mask, made\n%v\nwant\n%v", withoutOutputOnly(got), withoutOutputOnly(want))
	}

	uc, err := n.client.CreateUseCase(admin(ctx), &catalogv1.CreateUseCaseRequest{Parent: "origins/fr", UseCase: &catalogv1.UseCase{
		Tool: created.GetName(), Organization: &catalogv1.Organization{Name: "Ville de Paris", Kind: 2, Country: "FR"}, Purpose: "budget participatif",
	}})
	if err != nil {
		t.Fatal(err)
	}
	gotUC, err := n.client.UpdateUseCase(admin(ctx), &catalogv1.UpdateUseCaseRequest{UseCase: &catalogv1.UseCase{Name: uc.GetName(), Purpose: "consultations"}})
	if err != nil {
		t.Fatal(err)
	}
	if gotUC.GetPurpose() != "consultations" || gotUC.GetTool() != created.GetName() || gotUC.GetOrganization().GetName() != "Ville de Paris" {
		t.Errorf("an update of the purpose alone, without a mask, made %v", gotUC)
	}

	// Within a message, the fields sent, as a PATCH's body over REST: a
	// new maintenance type keeps the contacts, a publisher's new name its
	// URI.
	tl := validTool()
	tl.Maintenance = &catalogv1.Maintenance{Type: "community", Contacts: []*catalogv1.Contact{{Name: "Ana", Email: "ana@example.org"}}}
	tl.Publisher = &catalogv1.Publisher{Name: "Ville", Uri: "https://paris.fr"}
	for _, id := range []string{"by-rest", "by-grpc"} {
		if _, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: id, Tool: tl}); err != nil {
			t.Fatal(err)
		}
	}
	if resp, b := n.do(t, "PATCH", "/v1/origins/fr/tools/by-rest", testToken, `{"maintenance":{"type":"internal"},"publisher":{"name":"Mairie"}}`); resp.StatusCode != 200 {
		t.Fatalf("REST: %d %s", resp.StatusCode, b)
	}
	if _, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: &catalogv1.Tool{Name: "origins/fr/tools/by-grpc",
		Maintenance: &catalogv1.Maintenance{Type: "internal"}, Publisher: &catalogv1.Publisher{Name: "Mairie"}}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"by-rest", "by-grpc"} {
		got, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/" + id})
		if err != nil || got.GetMaintenance().GetType() != "internal" || len(got.GetMaintenance().GetContacts()) != 1 || got.GetPublisher().GetName() != "Mairie" || got.GetPublisher().GetUri() != "https://paris.fr" {
			t.Errorf("%s: maintenance %v, publisher %v, %v; want the new type and name, the contacts and URI kept", id, got.GetMaintenance(), got.GetPublisher(), err)
		}
	}

	// "*" is a replacement: what the tool sent leaves empty is cleared.
	replaced := validTool()
	replaced.Name, replaced.Descriptions, replaced.Platforms = created.GetName(), map[string]*catalogv1.Description{"en": {ShortDescription: "Participatory democracy"}}, nil
	got, err = n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: replaced, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"*"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetLicense() != replaced.GetLicense() || len(got.GetPlatforms()) != 0 || len(got.GetDescriptions()) != 1 {
		t.Errorf(`an update with the mask "*" did not replace the tool: license %q, platforms %v, descriptions %v`, got.GetLicense(), got.GetPlatforms(), got.GetDescriptions())
	}
}

// withoutOutputOnly is t without the fields the node sets: what a client
// wrote.
func withoutOutputOnly(t *catalogv1.Tool) *catalogv1.Tool {
	t = proto.Clone(t).(*catalogv1.Tool)
	t.Seq, t.Etag, t.CreateTime, t.UpdateTime, t.Qualification = 0, "", nil, nil, nil
	return t
}

// TestCreateAnswerQualifiedWithUseCasesBefore: a national government's use
// case names a tool, then the tool is created: the create's answer must
// count the use case in its qualification, as a read just after does. The
// answer was qualified before the indexer had linked the use case,
// whenever it was busy (here with a use case of software of 2,000 copies).
func TestCreateAnswerQualifiedWithUseCasesBefore(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	for round := range 2 {
		repo := fmt.Sprintf("https://github.com/city/app%d", round)
		var writes []storage.Write
		for i := range 2000 {
			tl := validTool()
			tl.RepositoryUrl = repo
			writes = append(writes, storage.Write{Op: storage.OpCreate, ID: fmt.Sprintf("app%d-copy-%d", round, i), Resource: tl})
		}
		if _, err := n.store.Apply(ctx, writes); err != nil {
			t.Fatal(err)
		}
		target := fmt.Sprintf("target-%d", round)
		for _, tool := range []string{repo, "origins/fr/tools/" + target} {
			if _, err := n.client.CreateUseCase(admin(ctx), &catalogv1.CreateUseCaseRequest{Parent: "origins/fr", UseCase: &catalogv1.UseCase{
				Tool: tool, Organization: &catalogv1.Organization{Name: "Ministère", Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_NATIONAL_GOVERNMENT, Country: "FR"},
				Purpose: "consultations"}}); err != nil {
				t.Fatal(err)
			}
		}
		tl := validTool()
		tl.RepositoryUrl = ""
		created, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: target, Tool: tl})
		if err != nil {
			t.Fatal(err)
		}
		read, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: created.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(created.GetQualification(), read.GetQualification()) {
			t.Errorf("%s: the create answered the qualification\n%v\na read just after:\n%v", created.GetName(), created.GetQualification(), read.GetQualification())
		}
	}
}

// TestConcurrentUpdatesWithoutEtagAllGoThrough: eight clients each update
// another field of one tool at once, without an etag: each update must
// go through (ABORTED is for a stale etag the client sent), and the tool
// end with every change.
func TestConcurrentUpdatesWithoutEtagAllGoThrough(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	created, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "decidim", Tool: validTool()})
	if err != nil {
		t.Fatal(err)
	}
	updates := []struct {
		path string
		tool *catalogv1.Tool
	}{
		{"display_name", &catalogv1.Tool{DisplayName: "Decidim 2"}},
		{"license", &catalogv1.Tool{License: "MIT"}},
		{"development_status", &catalogv1.Tool{DevelopmentStatus: "stable"}},
		{"software_type", &catalogv1.Tool{SoftwareType: "standalone/web"}},
		{"software_version", &catalogv1.Tool{SoftwareVersion: "0.28"}},
		{"release_date", &catalogv1.Tool{ReleaseDate: "2026-01-02"}},
		{"landing_url", &catalogv1.Tool{LandingUrl: "https://decidim.org"}},
		{"logo_url", &catalogv1.Tool{LogoUrl: "https://decidim.org/logo.png"}},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(updates))
	for i, u := range updates {
		u.tool.Name = "origins/fr/tools/decidim"
		wg.Go(func() {
			_, errs[i] = n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: u.tool, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{u.path}}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update of %s, without an etag, refused: %v", updates[i].path, err)
		}
	}
	got, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/decidim"})
	if err != nil {
		t.Fatal(err)
	}
	want := withoutOutputOnly(created)
	want.DisplayName, want.License, want.DevelopmentStatus, want.SoftwareType = "Decidim 2", "MIT", "stable", "standalone/web"
	want.SoftwareVersion, want.ReleaseDate, want.LandingUrl, want.LogoUrl = "0.28", "2026-01-02", "https://decidim.org", "https://decidim.org/logo.png"
	if got := withoutOutputOnly(got); !proto.Equal(got, want) {
		t.Errorf("not every update is in the tool:\n%v\nwant\n%v", got, want)
	}
}

// TestHarvestTimeMustBeATime: a gRPC client sets a tool's
// provenance.harvest_time; one past the year 9999, or of negative
// nanoseconds, is no time JSON can write, and once stored every REST
// listing of tools failed with 500, on every node it replicated to. It is
// refused, naming the field.
func TestHarvestTimeMustBeATime(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	for i, ts := range []*timestamppb.Timestamp{{Seconds: 253402300800}, {Seconds: 1, Nanos: -1}} {
		tl := validTool()
		tl.Provenance = &catalogv1.Provenance{Kind: catalogv1.ProvenanceKind_PROVENANCE_KIND_MANUAL, HarvestTime: ts}
		_, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: fmt.Sprintf("bad-time-%d", i), Tool: tl})
		if status.Code(err) != codes.InvalidArgument || !contains(fieldViolations(err), "tool.provenance.harvest_time") {
			t.Errorf("harvest_time %v: %v, want INVALID_ARGUMENT naming tool.provenance.harvest_time", ts, err)
		}
	}
	if resp, b := n.do(t, "GET", "/v1/tools", "", ""); resp.StatusCode != 200 {
		t.Errorf("GET /v1/tools: %d %.200s", resp.StatusCode, b)
	}
}

// TestToolGrowsNoLargerThanAClientReads: each update within the request
// limit, a tool grew, a language of long description at a time, to
// 13 MB, which no gRPC client of the default 4 MiB could read, nor a page
// of a list holding it. Past validate.MaxToolBytes, the update is refused,
// naming the tool, and the tool stays as it was.
func TestToolGrowsNoLargerThanAClientReads(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	created, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "decidim", Tool: validTool()})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("𝄞", 10_000) // 40 KB
	var last *catalogv1.Tool
	for i := range validate.MaxListItems {
		lang := fmt.Sprintf("x-%03d", i)
		got, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{
			Tool:       &catalogv1.Tool{Name: created.GetName(), Descriptions: map[string]*catalogv1.Description{lang: {ShortDescription: "x", LongDescription: long}}},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"descriptions." + lang}},
		})
		if err == nil {
			last = got
			continue
		}
		if status.Code(err) != codes.InvalidArgument || !contains(fieldViolations(err), "tool") || !strings.Contains(err.Error(), "bytes once encoded") {
			t.Fatalf("update %d: %v, want INVALID_ARGUMENT naming the tool's size", i, err)
		}
		read, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: created.GetName()})
		if err != nil || read.GetSeq() != last.GetSeq() || proto.Size(read) > 4<<20 {
			t.Errorf("the tool after the refused update: %v, seq %d (last written %d), %d bytes", err, read.GetSeq(), last.GetSeq(), proto.Size(read))
		}
		return
	}
	t.Errorf("a hundred languages of long descriptions taken: the tool is %d bytes", proto.Size(last))
}
