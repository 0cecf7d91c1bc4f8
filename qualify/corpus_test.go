package qualify

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/protobuf/proto"
)

// sillRecord is what the tests read of an entry of the SILL.
type sillRecord struct {
	Name    string `json:"i"`
	License string `json:"l"`
}

// sillLicenses reads the entries of a real national catalog (the French
// SILL, kept in shared/ beside the module).
func sillLicenses(t *testing.T) []sillRecord {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "shared", "corpus", "sill", "sill.json"))
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	var records []sillRecord
	if err := json.Unmarshal(data, &records); err != nil {
		t.Fatal(err)
	}
	return records
}

// The license field of a real national catalog (the French SILL, kept in
// shared/ beside the module), as sources write it, well or badly.
func TestOpenLicenseOnSILL(t *testing.T) {
	records := sillLicenses(t)
	met := 0
	for _, r := range records {
		c := criterion(t, Qualify(&catalogv1.Tool{License: r.License}, nil, now), OpenLicense)
		if c.GetMet() {
			met++
		}
		if !strings.HasSuffix(c.GetReason(), ".") {
			t.Errorf("%s (%q): reason %q", r.Name, r.License, c.GetReason())
		}
	}
	// The SILL lists free software: most of its licenses are OSI-approved
	// SPDX expressions; the rest are free text ("LGPL-2.1, LGPL-3.0") or
	// non-OSI licenses such as CECILL-B.
	if met < len(records)*3/4 {
		t.Errorf("only %d of %d SILL licenses are open", met, len(records))
	}
	t.Logf("%d of %d SILL licenses meet open_license", met, len(records))
}

// TestQualifierRemembers qualifies the SILL's tools twice with one
// Qualifier, on several goroutines: each time word for word as Qualify
// does, and the Qualifier remembers no more than its bound.
func TestQualifierRemembers(t *testing.T) {
	records := sillLicenses(t)
	var tools []*catalogv1.Tool
	for _, r := range records {
		tools = append(tools, &catalogv1.Tool{License: r.License, LocalisationReady: true, AvailableLanguages: []string{"fr", "en-GB", "iw", "he", "not a tag"}})
	}
	// A license longer than a Qualifier remembers, and more distinct
	// licenses than it keeps.
	tools = append(tools, &catalogv1.Tool{License: strings.Repeat("MIT OR ", memoKeyBytes) + "MIT"})
	for i := range memoSize + 10 {
		tools = append(tools, &catalogv1.Tool{License: fmt.Sprintf("LicenseRef-%d", i), AvailableLanguages: []string{fmt.Sprintf("x-%d", i)}})
	}
	var qr Qualifier
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tl := range tools {
				if got, want := qr.Qualify(tl, nil, now), Qualify(tl, nil, now); !proto.Equal(got, want) {
					t.Errorf("license %q, languages %q: the Qualifier gives\n%v\nQualify\n%v", tl.GetLicense(), tl.GetAvailableLanguages(), got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := qr.licenses.size.Load(); n != memoSize {
		t.Errorf("the Qualifier remembers %d licenses, want its bound %d", n, memoSize)
	}
}
