package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/validate"
	"google.golang.org/protobuf/proto"
)

// TestAdoptionCountryOfAPeersUseCase: a peer's use case may write a
// country as the API no longer takes it (UK for GB, as the search index's
// country facet allows for): the adoption view groups by country, and one
// country must not be listed twice.
func TestAdoptionCountryOfAPeersUseCase(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	if _, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "decidim", Tool: validTool()}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.client.CreateUseCase(admin(ctx), &catalogv1.CreateUseCaseRequest{Parent: "origins/fr", UseCaseId: "london", UseCase: &catalogv1.UseCase{
		Tool: "origins/fr/tools/decidim", Purpose: "Consultations",
		Organization: &catalogv1.Organization{Name: "Greater London Authority", Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, Country: "GB"}}}); err != nil {
		t.Fatal(err)
	}
	// A use case of an older peer, which wrote the United Kingdom as UK.
	seed := sha256.Sum256([]byte("gb-old"))
	key := ed25519.NewKeyFromSeed(seed[:])
	uc := &catalogv1.UseCase{Name: "origins/gb-old/usecases/leeds", Origin: "gb-old", Seq: 1, Tool: "origins/fr/tools/decidim", Purpose: "Budgets",
		Organization: &catalogv1.Organization{Name: "Leeds City Council", Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, Country: "UK"}}
	b, err := proto.Marshal(uc)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := envelope.Seal(&federationv1.Record{Origin: "gb-old", Kind: federationv1.RecordKind_RECORD_KIND_USE_CASE, Id: "leeds", Seq: 1, Resource: b}, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.store.ApplyPage(ctx, &federationv1.OriginPage{Origin: "gb-old", PublicKey: key.Public().(ed25519.PublicKey), ThroughSeq: 1, Records: []*federationv1.SignedRecord{sr}}); err != nil {
		t.Fatal(err)
	}
	// The use cases search finds both under GB.
	list, err := n.client.ListUseCases(ctx, &catalogv1.ListUseCasesRequest{Country: []string{"GB"}})
	if err != nil || len(list.GetUseCases()) != 2 {
		t.Fatalf("use cases of GB: %d, %v", len(list.GetUseCases()), err)
	}
	a, err := n.client.GetToolAdoption(ctx, &catalogv1.GetToolAdoptionRequest{Name: "origins/fr/tools/decidim"})
	if err != nil {
		t.Fatal(err)
	}
	var countries []string
	for _, c := range a.GetCountries() {
		countries = append(countries, c.GetCountry())
	}
	if len(countries) != 2 { // FR (the member that catalogues it) and GB
		t.Errorf("adoption by country: %v, want FR and GB, the two use cases of the United Kingdom under GB", countries)
	}
}

// TestAdoptionFitsAClientsMessage: a tool is at most 2 MiB once encoded
// "so that a read or a page of a list fits a gRPC client's default
// 4 MiB"; the adoption view lists every record of the software whole, so
// four valid records (1.2 MB each) of one software, each readable, make an adoption no
// gRPC client with default options can read, for any of them.
func TestAdoptionFitsAClientsMessage(t *testing.T) {
	ctx := admin(context.Background())
	n := startNode(t, func(c *Config) { c.MaxRequestBytes = 4 << 20 })
	langs := []string{"en", "fr", "de", "es", "it", "pt", "nl", "pl", "cs", "sk", "sl", "hr", "hu", "ro", "bg", "el", "da", "sv", "fi", "et", "lv", "lt", "ga", "mt", "ca", "eu", "gl", "is", "no", "uk", "ru", "tr", "ar", "he", "ja", "ko", "zh", "hi", "id", "vi"}
	big := func(i int) *catalogv1.Tool {
		tl := validTool()
		tl.DisplayName = fmt.Sprintf("Decidim %d", i)
		tl.Descriptions = map[string]*catalogv1.Description{}
		for _, l := range langs {
			d := &catalogv1.Description{ShortDescription: "Participatory democracy", LongDescription: strings.Repeat("participation ", 700)}
			for j := range 100 {
				d.Features = append(d.Features, fmt.Sprintf("%d %s", j, strings.Repeat("feature ", 24)))
			}
			tl.Descriptions[l] = d
		}
		return tl
	}
	for i := range 4 {
		tl := big(i)
		var v validate.Violations
		validate.Tool(&v, "tool", tl)
		if len(v.List) > 0 {
			t.Fatalf("the tool is not valid: %v", v.List[0])
		}
		if _, err := n.client.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: fmt.Sprintf("decidim-%d", i), Tool: tl}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		got, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: fmt.Sprintf("origins/fr/tools/decidim-%d", i)})
		if err != nil {
			t.Fatalf("read decidim-%d: %v", i, err)
		}
		t.Logf("decidim-%d: %d bytes", i, proto.Size(got))
	}
	a, err := n.client.GetToolAdoption(ctx, &catalogv1.GetToolAdoptionRequest{Name: "origins/fr/tools/decidim-2"})
	if err != nil {
		t.Fatalf("adoption of decidim-2, a software of 4 readable records: %v", err)
	}
	var names []string
	for _, tl := range a.GetTools() {
		names = append(names, tl.GetName())
	}
	slices.Sort(names[1:])
	if want := []string{"origins/fr/tools/decidim-2", "origins/fr/tools/decidim-0", "origins/fr/tools/decidim-1", "origins/fr/tools/decidim-3"}; !slices.Equal(names, want) {
		t.Errorf("adoption lists %v, want %v, the tool asked about first", names, want)
	}
	if a.GetTools()[0].GetDescriptions()["fr"].GetLongDescription() == "" || a.GetAbridgedRecords() != 2 || a.GetOmittedRecords() != 0 {
		t.Errorf("the tool asked about whole: %v; %d records abridged, %d left out; want 2 and 0",
			a.GetTools()[0].GetDescriptions()["fr"].GetLongDescription() != "", a.GetAbridgedRecords(), a.GetOmittedRecords())
	}
	for _, tl := range a.GetTools()[1:] {
		if len(tl.GetDescriptions()) == 0 && !strings.HasPrefix(tl.GetDisplayName(), "Decidim ") {
			t.Errorf("%s abridged without its display name: %v", tl.GetName(), tl)
		}
	}
}

// TestAdoptionOfThousandsOfUseCasesBounded: use cases past what even
// abridged fits in a client's message are left out, and counted; the rest
// keep their order, whole first.
func TestAdoptionOfThousandsOfUseCasesBounded(t *testing.T) {
	out := &catalogv1.ToolAdoption{Tool: "origins/fr/tools/decidim", Tools: []*catalogv1.Tool{{Name: "origins/fr/tools/decidim", DisplayName: "Decidim"}}}
	fr := &catalogv1.CountryAdoption{Country: "FR", Origins: []string{"fr"}}
	const n = 5000
	for i := range n {
		fr.UseCases = append(fr.UseCases, &catalogv1.UseCase{
			Name: fmt.Sprintf("origins/zz/usecases/u%d", i), Origin: "zz", Tool: "origins/fr/tools/decidim",
			Purpose:      strings.Repeat("budget ", 150),
			Organization: &catalogv1.Organization{Name: fmt.Sprintf("Commune %d %s", i, strings.Repeat("x", 500)), Country: "FR"},
		})
	}
	out.Countries = []*catalogv1.CountryAdoption{fr}
	abridgeAdoption(out, nil)
	whole := 0
	for i, u := range fr.GetUseCases() {
		if u.GetName() != fmt.Sprintf("origins/zz/usecases/u%d", i) {
			t.Fatalf("use case %d is %s", i, u.GetName())
		}
		if u.GetPurpose() != "" {
			if whole != i {
				t.Fatalf("use case %d whole after abridged ones", i)
			}
			whole++
		}
	}
	if size := proto.Size(out); size > 4<<20-4096 || whole == 0 || out.GetAbridgedRecords() == 0 || out.GetOmittedRecords() == 0 ||
		whole+int(out.GetAbridgedRecords())+int(out.GetOmittedRecords()) != n || len(fr.GetUseCases()) != n-int(out.GetOmittedRecords()) {
		t.Errorf("%d bytes: %d use cases whole, %d abridged, %d left out, %d listed, of %d", size, whole, out.GetAbridgedRecords(), out.GetOmittedRecords(), len(fr.GetUseCases()), n)
	}
}
