package web_test

import (
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
)

// TestPeerNamesOfMaintenanceIsolatedFromBidi: the names of a peer's
// tool's contractors, contacts and publisher are record text too, followed
// in their item by the page's own words ("(until ...)", " — "): an
// unclosed override in them reverses those words, as in the names the
// pages now isolate (see TestRecordTextIsolatedFromBidi).
func TestPeerNamesOfMaintenanceIsolatedFromBidi(t *testing.T) {
	const rlo = "\u202E"
	dir := dataWithPeerRecords(t, "de",
		peerRecord{federationv1.RecordKind_RECORD_KIND_TOOL, "kept", &catalogv1.Tool{Name: "origins/de/tools/kept", Origin: "de", Seq: 1,
			DisplayName: "Kept", Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "A tool"}},
			Publisher: &catalogv1.Publisher{Name: "Ministry" + rlo, Uri: "https://example.org/ministry"},
			Maintenance: &catalogv1.Maintenance{Type: "contract",
				Contacts:    []*catalogv1.Contact{{Name: "Ann" + rlo, Email: "ann@example.org"}},
				Contractors: []*catalogv1.Contractor{{Name: "Acme" + rlo, Until: "2030-01-01"}}}}},
	)
	n := startNodeIn(t, dir)
	code, page, _ := get(t, client(t), n.base+"/tools/de/kept")
	if code != 200 {
		t.Fatalf("GET /tools/de/kept: %d", code)
	}
	for _, leak := range bidiLeaks(t, page) {
		t.Errorf("a peer's unclosed override reorders the rest of %q", leak)
	}
}
