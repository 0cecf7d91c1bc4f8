package publiccode

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ogptoolbox/federation/validate"
)

// FuzzParse feeds Parse arbitrary bytes, starting from the corpus files.
// Parse turns a panic into an "internal error" finding rather than
// crashing the harvest, so that finding is the failure here; an accepted
// file must always make a tool the catalog takes.
func FuzzParse(f *testing.F) {
	corpus := corpusDir(f)
	err := filepath.WalkDir(filepath.Join(corpus, "v0"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil {
			f.Add(data)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(minimal))
	f.Add([]byte(fullFile))

	f.Fuzz(func(t *testing.T, data []byte) {
		res := Parse(data, "fuzz")
		for _, e := range res.Errors {
			if strings.HasPrefix(e.GetMessage(), internalError) {
				t.Fatalf("%s", e.GetMessage())
			}
			if e.GetLine() < 0 || e.GetColumn() < 0 {
				t.Fatalf("finding at %d:%d", e.GetLine(), e.GetColumn())
			}
		}
		if (res.Entry == nil) != (len(res.Errors) > 0) {
			t.Fatalf("entry %v with %d errors", res.Entry != nil, len(res.Errors))
		}
		if res.Entry == nil {
			return
		}
		var v validate.Violations
		validate.Tool(&v, "tool", res.Entry.GetTool())
		if len(v.List) > 0 {
			t.Fatalf("accepted tool fails validate.Tool: %+v", v.List)
		}
		if res.Entry.GetSourceId() == "" {
			t.Fatalf("accepted entry without a source id")
		}
	})
}
