package web

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestKeptItemsUnchanged checks that a textarea posted unchanged gives
// back the items it was shown from, whole and in order, whatever lines
// they share.
func TestKeptItemsUnchanged(t *testing.T) {
	for _, was := range [][]string{
		{"x", "y\nz", "x\ny"}, // the longest first would take "x\ny" at line 0, and split "y\nz"
		{"a", "b", "a\nb"},    // the longest first would move "a\nb" first
	} {
		posted := strings.ReplaceAll(strings.Join(was, "\n"), "\n", "\r\n")
		if diff := cmp.Diff(keptItems(posted, was), was); diff != "" {
			t.Errorf("unchanged %q (-got +want):\n%s", was, diff)
		}
	}
}

// TestKeptRecordsSameLine saves unchanged two contractors shown as the
// same line ("Acme; https://acme.example"): each stays as it was.
func TestKeptRecordsSameLine(t *testing.T) {
	was := []*catalogv1.Contractor{{Name: "Acme; https://acme.example"}, {Name: "Acme", Website: "https://acme.example"}}
	f := toolFormOf(&catalogv1.Tool{Maintenance: &catalogv1.Maintenance{Contractors: was}})
	got := keptRecords(f.Contractors, was, 3,
		func(c *catalogv1.Contractor) string { return joinParts(c.GetName(), c.GetWebsite(), c.GetUntil()) },
		func(p []string) *catalogv1.Contractor {
			return &catalogv1.Contractor{Name: p[0], Website: p[1], Until: p[2]}
		},
		func(string) {})
	if diff := cmp.Diff(got, was, protocmp.Transform()); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
}

// TestKeptItemsMoved moves an item up, above one that is its first
// line: both items' lines run unchanged, both are kept whole.
func TestKeptItemsMoved(t *testing.T) {
	was := []string{"Paris", "Paris\nDirection du numérique"}
	posted := "Paris\r\nDirection du numérique\r\nParis" // the second item moved first
	if diff := cmp.Diff(keptItems(posted, was), []string{"Paris\nDirection du numérique", "Paris"}); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
}
