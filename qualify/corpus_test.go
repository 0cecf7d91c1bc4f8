package qualify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// The license field of a real national catalog (the French SILL, kept in
// shared/ beside the module), as sources write it, well or badly.
func TestOpenLicenseOnSILL(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "shared", "corpus", "sill", "sill.json"))
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	var records []struct {
		Name    string `json:"i"`
		License string `json:"l"`
	}
	if err := json.Unmarshal(data, &records); err != nil {
		t.Fatal(err)
	}
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
