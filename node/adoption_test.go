package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
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
