package spdx

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateValid(t *testing.T) {
	for _, in := range []string{
		"MIT",
		"mit",
		"GPL-3.0-or-later",
		"AGPL-3.0+",
		"GPL-3.0",  // deprecated, still valid
		"GPL-2.0+", // deprecated, still valid
		"wxWindows",
		"Apache-2.0 WITH LLVM-exception",
		"GPL-2.0-only WITH Nokia-Qt-exception-1.1", // deprecated exception
		"(MIT OR Apache-2.0) AND BSD-3-Clause",
		"LicenseRef-my-license",
		"DocumentRef-x:LicenseRef-y",
		"LicenseRef-Unknown WITH LLVM-exception",
		"EUPL-1.2",
		"((MIT OR (Apache-2.0 AND BSD-2-Clause)) AND (GPL-2.0-only WITH Classpath-exception-2.0 OR LGPL-2.1-or-later))",
		"CECILL-2.1 OR CECILL-B OR CECILL-C",
		"0BSD",
	} {
		if err := Validate(in); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", in, err)
		}
	}
}

func TestValidateInvalid(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"GPL3", `spdx: unknown SPDX license identifier "GPL3"`},
		{"MIT OR Apache 2.0", `spdx: at offset 14: expected AND, OR or WITH after "Apache", found "2.0"`},
		{"MIT AND", `spdx: at offset 7: expected a license identifier after "AND"`},
		{"MIT WITH foo-exception", `spdx: unknown SPDX license exception identifier "foo-exception"`},
		{"MIT AND llvm-exception", `spdx: "LLVM-exception" is an SPDX license exception, not a license: it can only follow a license and WITH, as in "<license> WITH LLVM-exception"`},
		{"GPL-2.0-only WITH mit", `spdx: "MIT" after WITH is an SPDX license, not a license exception: combine licenses with AND or OR`},
		{"GPL3 OR MIT OR Foo+ OR GPL3", "spdx: unknown SPDX license identifier \"GPL3\"\nspdx: unknown SPDX license identifier \"Foo\""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := Validate(tt.in)
			if err == nil {
				t.Fatalf("Validate(%q) = nil, want %q", tt.in, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Validate(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateSyntaxErrorType(t *testing.T) {
	var se *SyntaxError
	if err := Validate("(MIT"); !errors.As(err, &se) {
		t.Errorf("Validate(%q) = %v (%T), want a *SyntaxError", "(MIT", err, err)
	}
	if err := Validate("GPL3"); errors.As(err, &se) {
		t.Errorf("Validate(%q) = %v, a *SyntaxError; want an unknown-identifier error", "GPL3", err)
	}
}

func TestIsDeprecated(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"GPL-3.0", true},
		{"GPL-2.0+", true},
		{"gpl-2.0+", true},
		{"LGPL-2.1", true},
		{"wxWindows", true},
		{"Nokia-Qt-exception-1.1", true},
		{"GPL-3.0-only", false},
		{"GPL-3.0-or-later", false},
		{"MIT", false},
		{"LLVM-exception", false},
		{"GPL3", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsDeprecated(tt.id); got != tt.want {
			t.Errorf("IsDeprecated(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestIsOSIApproved(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"MIT", true},
		{"mit", true},
		{"Apache-2.0", true},
		{"EUPL-1.2", true},
		{"AGPL-3.0-or-later", true},
		{"CECILL-2.1", true},
		{"GPL-3.0", true}, // deprecated but approved
		{"CC-BY-4.0", false},
		{"CC0-1.0", false},
		{"LLVM-exception", false},
		{"LicenseRef-x", false},
		{"GPL3", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsOSIApproved(tt.id); got != tt.want {
			t.Errorf("IsOSIApproved(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// TestLists checks the generated lists: sizes, order, lookups and that no
// identifier is both a license and an exception (Validate's messages rely
// on it).
func TestLists(t *testing.T) {
	licenses, exceptions := licenseIDs(), exceptionIDs()
	if len(licenses) < 600 {
		t.Errorf("%d license identifiers, want at least 600", len(licenses))
	}
	if len(exceptions) < 70 {
		t.Errorf("%d exception identifiers, want at least 70", len(exceptions))
	}
	lower := func(ids []string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, strings.ToLower(id))
		}
		return out
	}
	for _, l := range [][]string{lower(licenses), lower(exceptions)} {
		if !slices.IsSorted(l) {
			t.Errorf("identifiers not sorted case-insensitively: %q...", l[:3])
		}
		if got := len(slices.Compact(slices.Clone(l))); got != len(l) {
			t.Errorf("%d duplicate identifiers", len(l)-got)
		}
	}
	for _, id := range licenses {
		e, ok := lookupLicense(strings.ToLower(id))
		if !ok || e.id != id {
			t.Errorf("lookupLicense(%q) = %+v, %v", strings.ToLower(id), e, ok)
		}
		if _, ok := lookupException(strings.ToLower(id)); ok {
			t.Errorf("%q is both a license and an exception", id)
		}
	}
	for _, id := range exceptions {
		e, ok := lookupException(strings.ToLower(id))
		if !ok || e.id != id {
			t.Errorf("lookupException(%q) = %+v, %v", strings.ToLower(id), e, ok)
		}
	}
	if licenseListVersion == "" || exceptionListVersion == "" {
		t.Errorf("list versions %q, %q: want both set", licenseListVersion, exceptionListVersion)
	}
}

// TestPubliccodeCorpus validates the legal.license of the reference
// publiccode.yml parser's conformance files: those of valid files must pass,
// the one of invalid/legal_license_invalid.yml must not.
func TestPubliccodeCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "corpus", "publiccode", "v0")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	n := 0
	for _, sub := range []string{"valid", "valid_with_warnings"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(path) != ".yml" {
				return err
			}
			for _, license := range licenseLines(t, path) {
				n++
				if err := Validate(license); err != nil {
					t.Errorf("%s: Validate(%q) = %v", path, license, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Error("found no license in the valid corpus files")
	}
	invalid := filepath.Join(dir, "invalid", "legal_license_invalid.yml")
	licenses := licenseLines(t, invalid)
	if len(licenses) != 1 {
		t.Fatalf("%s: found licenses %q, want one", invalid, licenses)
	}
	if err := Validate(licenses[0]); err == nil {
		t.Errorf("%s: Validate(%q) = nil, want an error", invalid, licenses[0])
	}
}

// licenseLines returns the values of the "license:" lines of a YAML file,
// without quotes or trailing comments.
func licenseLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "license:")
		if !ok {
			continue
		}
		if i := strings.Index(v, " #"); i >= 0 {
			v = v[:i]
		}
		out = append(out, strings.Trim(strings.TrimSpace(v), `"'`))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLicensesOrder(t *testing.T) {
	e, err := Parse("LicenseRef-b OR (Apache-2.0 WITH LLVM-exception AND mit) OR licenseref-B OR MIT+")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e.Licenses(), []string{"LicenseRef-b", "Apache-2.0", "MIT"}); diff != "" {
		t.Errorf("Licenses() mismatch (-got +want):\n%s", diff)
	}
}
