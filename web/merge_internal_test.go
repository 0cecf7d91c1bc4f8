package web

import (
	"slices"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// TestMergeEdits merges field by field, a map's entries each, and names
// the fields both changed differently.
func TestMergeEdits(t *testing.T) {
	d := func(s string) *catalogv1.Description { return &catalogv1.Description{ShortDescription: s} }
	base := &catalogv1.Tool{DisplayName: "A", License: "MIT", Categories: []string{"x"}, Descriptions: map[string]*catalogv1.Description{"en": d("en"), "fr": d("fr")}}
	mine := &catalogv1.Tool{DisplayName: "B", License: "MIT", Categories: []string{"x", "y"}, Descriptions: map[string]*catalogv1.Description{"en": d("en mine"), "fr": d("fr")},
		Maintenance: &catalogv1.Maintenance{}} // an empty message where base has none: no change
	theirs := &catalogv1.Tool{DisplayName: "C", License: "Apache-2.0", Categories: []string{"x", "y"}, Descriptions: map[string]*catalogv1.Description{"en": d("en theirs"), "es": d("es")}}
	merged, conflicts := mergeEdits(base, mine, theirs, []string{"display_name", "license", "categories", "descriptions", "maintenance"})
	if want := []string{"descriptions.en", "display_name"}; !slices.Equal(conflicts, want) {
		t.Errorf("conflicts %q, want %q", conflicts, want)
	}
	if merged.GetDisplayName() != "B" || merged.GetLicense() != "Apache-2.0" || !slices.Equal(merged.GetCategories(), []string{"x", "y"}) ||
		merged.GetDescriptions()["en"].GetShortDescription() != "en mine" || merged.GetDescriptions()["fr"] != nil ||
		merged.GetDescriptions()["es"].GetShortDescription() != "es" || merged.GetMaintenance() != nil {
		t.Errorf("merged: %v", merged)
	}
}

// TestMergeEditsOfMessages merges a message both changed field by field,
// naming a field of it both changed by its path.
func TestMergeEditsOfMessages(t *testing.T) {
	base := &catalogv1.Tool{Publisher: &catalogv1.Publisher{Name: "A", Uri: "https://a.example.org"}}
	mine := &catalogv1.Tool{Publisher: &catalogv1.Publisher{Name: "B", Uri: "https://a.example.org"}}
	theirs := &catalogv1.Tool{Publisher: &catalogv1.Publisher{Name: "C", Uri: "https://c.example.org"}}
	merged, conflicts := mergeEdits(base, mine, theirs, []string{"publisher"})
	if !slices.Equal(conflicts, []string{"publisher.name"}) || merged.GetPublisher().GetName() != "B" || merged.GetPublisher().GetUri() != "https://c.example.org" {
		t.Errorf("merged %v, conflicts %q", merged, conflicts)
	}
	if got := fieldText(theirs, "publisher.name"); got != "C" {
		t.Errorf("fieldText of publisher.name: %q", got)
	}
}

// TestMergeEditsClearedMessage: a publisher the curator removed, which the
// other changed meanwhile to what the removal agrees with (its address
// removed), is merged without a conflict into no publisher, not an empty
// one neither side wrote.
func TestMergeEditsClearedMessage(t *testing.T) {
	base := &catalogv1.Tool{Publisher: &catalogv1.Publisher{Name: "A", Uri: "https://a.example.org"}}
	mine := &catalogv1.Tool{}
	theirs := &catalogv1.Tool{Publisher: &catalogv1.Publisher{Name: "A"}}
	merged, conflicts := mergeEdits(base, mine, theirs, []string{"publisher"})
	if len(conflicts) != 0 || merged.Publisher != nil {
		t.Errorf("merged %v (publisher set: %v), conflicts %q; want no publisher, no conflict", merged, merged.Publisher != nil, conflicts)
	}
}
