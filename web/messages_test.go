package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/qualify"
	"github.com/ogptoolbox/federation/vocabulary"
)

// TestCatalogComplete checks that every language has every key, and that
// every key the pages use is in the catalog: the ones written in the
// templates and the Go code, and the ones built from a vocabulary.
func TestCatalogComplete(t *testing.T) {
	cat := catalog()
	for lang, msgs := range cat {
		for key := range cat["en"] {
			if _, ok := msgs[key]; !ok {
				t.Errorf("%s lacks %q", lang, key)
			}
		}
		for key := range msgs {
			if _, ok := cat["en"][key]; !ok {
				t.Errorf("%s has %q, which English lacks", lang, key)
			}
		}
	}

	used := map[string]bool{}
	// In Go, any literal that looks like a key of the pages' own sections;
	// in templates, the arguments of T and N.
	literal := regexp.MustCompile(`"((?:site|nav|footer|count|country|search|order|facet|tool|usecase|federation|signin|form|confirm|done|error)\.[a-z_]+)"`)
	tmplKey := regexp.MustCompile(`\.(?:T|N) "([a-z_.]+)"`)
	comment := regexp.MustCompile(`(?m)^\s*//.*$`)
	var files []string
	fs.WalkDir(os.DirFS("."), ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (filepath.Ext(path) == ".html" || (filepath.Ext(path) == ".go" && !regexp.MustCompile(`_test\.go$`).MatchString(path))) {
			files = append(files, path)
		}
		return nil
	})
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if filepath.Ext(f) == ".go" {
			text = comment.ReplaceAllString(text, "")
		}
		for _, re := range []*regexp.Regexp{literal, tmplKey} {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				used[m[1]] = true
			}
		}
	}
	for _, f := range facetFields() {
		used["facet."+f] = true
	}
	for _, key := range []func(string) string{toolCuration(nil).key, useCaseCuration(nil).key} {
		used[key("new")], used[key("edit")] = true, true
	}
	for o := range orders() {
		used["order."+o] = true
	}
	for i := 1; i < len(catalogv1.OgpTheme_name); i++ {
		used["theme."+catalogv1.OgpTheme(i).String()] = true
	}
	for _, id := range qualify.IDs() {
		used["criterion."+id] = true
	}
	for _, s := range vocabulary.DevelopmentStatuses() {
		used["status."+s] = true
	}
	for _, s := range vocabulary.MaintenanceTypes() {
		used["maintenance."+s] = true
	}
	for _, names := range []map[int32]string{catalogv1.OrganizationKind_name, catalogv1.UseCaseStatus_name, federationv1.PeerState_name, catalogv1.ProvenanceKind_name} {
		for _, n := range names {
			used["enum."+n] = true
		}
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in use: the scan is broken", len(used))
	}
	var missing []string
	for key := range used {
		_, plain := cat["en"][key]
		_, counted := cat["en"][key+".one"]
		if !plain && !counted {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	for _, key := range missing {
		t.Errorf("the pages use %q, which the catalog lacks", key)
	}
}
