package vocabulary

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// vocabularies pairs each list with its membership test.
func vocabularies() []struct {
	name string
	list func() []string
	is   func(string) bool
} {
	return []struct {
		name string
		list func() []string
		is   func(string) bool
	}{
		{"Category", Categories, IsCategory},
		{"SoftwareType", SoftwareTypes, IsSoftwareType},
		{"DevelopmentStatus", DevelopmentStatuses, IsDevelopmentStatus},
		{"MaintenanceType", MaintenanceTypes, IsMaintenanceType},
		{"Platform", Platforms, IsPlatform},
	}
}

func TestListsSortedUniqueAndMembers(t *testing.T) {
	for _, v := range vocabularies() {
		t.Run(v.name, func(t *testing.T) {
			list := v.list()
			if len(list) == 0 {
				t.Fatal("empty list")
			}
			if !slices.IsSorted(list) {
				t.Errorf("list is not sorted: %q", list)
			}
			if got := len(slices.Compact(slices.Clone(list))); got != len(list) {
				t.Errorf("list has %d duplicates: %q", len(list)-got, list)
			}
			for _, s := range list {
				if !v.is(s) {
					t.Errorf("Is%s(%q) = false for a member of the list", v.name, s)
				}
			}
			list[0] = "changed"
			if got := v.list()[0]; got == "changed" {
				t.Error("the list is shared between calls, want a fresh slice")
			}
		})
	}
}

func TestCounts(t *testing.T) {
	tests := []struct {
		name string
		got  int
		want int
	}{
		{"Categories", len(Categories()), 106},
		{"SoftwareTypes", len(SoftwareTypes()), 9},
		{"DevelopmentStatuses", len(DevelopmentStatuses()), 5},
		{"MaintenanceTypes", len(MaintenanceTypes()), 4},
		{"Platforms", len(Platforms()), 6},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("len(%s()) = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestIsCategory(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"accounting", true},
		{"agile-project-management", true},
		{"whistleblowing", true},
		{"workflow-management", true},
		{"other", true},
		{"integrated-library-system", true},
		{"regulations-and-directives", true},
		{"Accounting", false},
		{"no_such_category", false},
		{"accounting ", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsCategory(tt.in); got != tt.want {
			t.Errorf("IsCategory(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsSoftwareType(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"standalone/web", true},
		{"standalone/other", true},
		{"configurationFiles", true},
		{"addon", true},
		{"configurationfiles", false},
		{"standalone", false},
		{"standalone/", false},
		{"foobar", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsSoftwareType(tt.in); got != tt.want {
			t.Errorf("IsSoftwareType(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsDevelopmentStatus(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"concept", true},
		{"stable", true},
		{"obsolete", true},
		{"Stable", false},
		{"alpha", false},
		{"foobar", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsDevelopmentStatus(tt.in); got != tt.want {
			t.Errorf("IsDevelopmentStatus(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsMaintenanceType(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"internal", true},
		{"contract", true},
		{"community", true},
		{"none", true},
		{"None", false},
		{"no_such_type", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsMaintenanceType(tt.in); got != tt.want {
			t.Errorf("IsMaintenanceType(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsPlatform(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"web", true},
		{"android", true},
		{"windows", true},
		{"freebsd", true},
		{"custom_platform", true},
		{"c++", true},
		{"gtk+", true},
		{"x86-64", true},
		{"0", true},
		{strings.Repeat("a", 40), true},
		{strings.Repeat("a", 41), false},
		{"Windows", false},
		{"mac os", false},
		{"-linux", false},
		{"_linux", false},
		{".net", false},
		{"linux/arm", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsPlatform(tt.in); got != tt.want {
			t.Errorf("IsPlatform(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// corpusDir is the reference publiccode.yml parser's conformance files,
// kept in shared/ beside the module.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus", "publiccode", "v0")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	return dir
}

// TestCorpusValid checks that every value the valid conformance files give
// to a field with a vocabulary is in that vocabulary.
func TestCorpusValid(t *testing.T) {
	dir := corpusDir(t)
	checks := []struct {
		key string
		is  func(string) bool
	}{
		{"categories", IsCategory},
		{"platforms", IsPlatform},
		{"softwareType", IsSoftwareType},
		{"developmentStatus", IsDevelopmentStatus},
		{"maintenance.type", IsMaintenanceType},
	}
	counts := map[string]int{}
	for _, sub := range []string{"valid", "valid_with_warnings"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(path) != ".yml" {
				return err
			}
			values := scanYAML(t, path)
			for _, c := range checks {
				for _, v := range values[c.key] {
					counts[c.key]++
					if !c.is(v) {
						t.Errorf("%s: %s value %q is not in the vocabulary", path, c.key, v)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range checks {
		if counts[c.key] == 0 {
			t.Errorf("found no %s value in the valid corpus files", c.key)
		}
	}
}

// TestCorpusInvalid checks that the invalid conformance files about a
// vocabulary hold a value outside it.
func TestCorpusInvalid(t *testing.T) {
	dir := corpusDir(t)
	tests := []struct {
		file string
		key  string
		is   func(string) bool
	}{
		{"categories_invalid.yml", "categories", IsCategory},
		{"softwareType_invalid.yml", "softwareType", IsSoftwareType},
		{"developmentStatus_invalid.yml", "developmentStatus", IsDevelopmentStatus},
		{"maintenance_type_invalid.yml", "maintenance.type", IsMaintenanceType},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			values := scanYAML(t, filepath.Join(dir, "invalid", tt.file))[tt.key]
			var unknown []string
			for _, v := range values {
				if !tt.is(v) {
					unknown = append(unknown, v)
				}
			}
			if len(unknown) == 0 {
				t.Errorf("%s values %q are all known, want an unknown one", tt.key, values)
			}
		})
	}
}

// scanYAML extracts, with a line scan that is enough for the conformance
// files, the items of the top-level lists categories and platforms, the
// top-level scalars softwareType and developmentStatus, and the scalar
// maintenance.type. Values lose their quotes and trailing comments.
func scanYAML(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := "" // the current top-level key
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if line[0] != ' ' && line[0] != '-' {
			key, value, ok := strings.Cut(line, ":")
			if !ok {
				section = ""
				continue
			}
			section = key
			value = clean(value)
			switch key {
			case "softwareType", "developmentStatus":
				if value != "" && !strings.HasPrefix(value, "[") {
					out[key] = append(out[key], value)
				}
			case "categories", "platforms":
				if inner, ok := strings.CutPrefix(value, "["); ok {
					for item := range strings.SplitSeq(strings.TrimSuffix(inner, "]"), ",") {
						if item = clean(item); item != "" {
							out[key] = append(out[key], item)
						}
					}
				} else if value != "" {
					out[key] = append(out[key], value) // a scalar where a list belongs
				}
			}
			continue
		}
		switch section {
		case "categories", "platforms":
			if item, ok := strings.CutPrefix(trimmed, "- "); ok {
				out[section] = append(out[section], clean(item))
			}
		case "maintenance":
			if value, ok := strings.CutPrefix(line, "  type:"); ok {
				out["maintenance.type"] = append(out["maintenance.type"], clean(value))
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// clean drops a trailing comment, white space and quotes from a YAML value.
func clean(v string) string {
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	return strings.Trim(strings.TrimSpace(v), `"'`)
}

// TestMembershipSets checks that the Is functions look values up in sets
// of their own: without allocating, unaffected by what callers do to the
// lists they get, and safe for concurrent use.
func TestMembershipSets(t *testing.T) {
	for _, v := range vocabularies() {
		t.Run(v.name, func(t *testing.T) {
			list := v.list()
			first, last := list[0], list[len(list)-1]
			for i := range list {
				list[i] = "changed"
			}
			if !v.is(first) || !v.is(last) || (v.name != "Platform" && v.is("changed")) {
				t.Errorf("changing a returned list changed Is%s", v.name)
			}
			if n := testing.AllocsPerRun(100, func() { v.is(last); v.is("not-a-member") }); n != 0 {
				t.Errorf("Is%s allocates %v times per call, want 0", v.name, n)
			}
		})
	}
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, v := range vocabularies() {
					for _, s := range v.list() {
						if !v.is(s) {
							t.Errorf("Is%s(%q) = false", v.name, s)
						}
					}
				}
			}()
		}
		wg.Wait()
	})
}

func BenchmarkIsCategory(b *testing.B) {
	categories := Categories()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		IsCategory(categories[i%len(categories)])
	}
}
