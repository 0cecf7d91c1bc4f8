package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// browserTimeout bounds the whole browser test: every wait is for a
// condition, and this is the bound on all of them.
const browserTimeout = 2 * time.Minute

// TestBrowser drives a real headless Chromium (Debian's chromium) against a
// real node, as the "done when" asks: search, a facet, a tool and
// its adoption; sign in, create a tool, find it in search; a form error
// beside its field; the French pages. One browser serves every step. Each
// page visited is saved as a PNG in $OGPNODE_TEST_ARTIFACTS (else a
// temporary folder), whose path is logged when the test fails.
func TestBrowser(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	b := newBrowser(t)

	t.Run("search, facet, tool, adoption", func(t *testing.T) {
		b.visit(t, "search", n.base+"/", chromedp.CSS("#q"))
		b.do(t, "search-query",
			chromedp.SendKeys(chromedp.CSS("#q"), "democracy"),
		)
		b.navigateBy(t, "search-results", chromedp.Click(chromedp.CSS(`form.search button[type="submit"]`)), chromedp.CSS("#results-heading"))
		results := b.text(t, chromedp.CSS("ol.tools"))
		if !strings.Contains(results, "Decidim") || !strings.Contains(results, "Consul Democracy") {
			t.Fatalf("results of democracy: %q", results)
		}
		b.navigateBy(t, "facet", chromedp.Click(chromedp.CSS(`a.facet-value[href*="ogp_theme=OGP_THEME_PARTICIPATORY_BUDGETING"]`)), chromedp.CSS(".active .chip"))
		results = b.text(t, chromedp.CSS("ol.tools"))
		if !strings.Contains(results, "Decidim") || strings.Contains(results, "Consul") {
			t.Fatalf("results with the participatory budgeting facet: %q", results)
		}
		if heading := b.text(t, chromedp.CSS("#results-heading")); heading != "1 tool found" {
			t.Errorf("results heading %q", heading)
		}
		b.navigateBy(t, "tool", chromedp.Click(chromedp.CSS(`ol.tools a[href="/tools/fr/decidim"]`)), chromedp.CSS("#adoption-heading"))
		adoption := b.text(t, chromedp.CSS(".countries"))
		for _, want := range []string{"Spain (ES)", "Ajuntament de Barcelona", "Finland (FI)", "City of Helsinki", "France (FR)"} {
			if !strings.Contains(adoption, want) {
				t.Errorf("adoption lacks %q: %q", want, adoption)
			}
		}
		b.navigateBy(t, "usecase", chromedp.Click(chromedp.CSS(`.countries a[href="/usecases/fr/barcelona"]`)), chromedp.CSS(`dl.facts a[href="/tools/fr/decidim"]`))
	})

	t.Run("keyboard and phone", func(t *testing.T) {
		b.visit(t, "phone", n.base+"/", chromedp.CSS("#q"))
		b.do(t, "tab", chromedp.KeyEvent(kb.Tab))
		if focused := b.eval(t, `document.activeElement.className`); focused != "skip" {
			t.Errorf("the first Tab focuses %q, want the skip link", focused)
		}
		b.do(t, "phone-viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
		b.visit(t, "phone-search", n.base+"/?q=democracy", chromedp.CSS("#results-heading"))
		if wide := b.eval(t, `String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`); wide != "false" {
			t.Errorf("on a phone the search page scrolls sideways")
		}
		b.visit(t, "phone-tool", n.base+"/tools/fr/decidim", chromedp.CSS("#adoption-heading"))
		if wide := b.eval(t, `String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`); wide != "false" {
			t.Errorf("on a phone the tool page scrolls sideways")
		}
		b.do(t, "desktop-viewport", chromedp.EmulateViewport(1280, 900))
	})

	t.Run("sign in, create, find", func(t *testing.T) {
		b.visit(t, "signin", n.base+"/signin", chromedp.CSS("#token"))
		b.do(t, "signin-token", chromedp.SendKeys(chromedp.CSS("#token"), testToken))
		b.navigateBy(t, "signed-in", chromedp.Click(chromedp.CSS(`main button[type="submit"]`)), chromedp.CSS(`form[action="/signout"]`))

		b.visit(t, "new-tool", n.base+"/tools/new", chromedp.CSS("#display_name"))
		b.do(t, "new-tool-fill",
			chromedp.SendKeys(chromedp.CSS("#tool_id"), "petitions-hub"),
			chromedp.SendKeys(chromedp.CSS("#display_name"), "Petitions Hub"),
			chromedp.SendKeys(chromedp.CSS("#d0_short"), "Collect and answer citizen petitions online"),
			chromedp.SendKeys(chromedp.CSS("#repository_url"), "https://git.example.org/petitions-hub"),
			chromedp.Click(chromedp.CSS(`input[name="ogp_themes"][value="OGP_THEME_E_PETITIONS"]`)),
		)
		b.navigateBy(t, "created", chromedp.Click(chromedp.CSS(`form.curate button[type="submit"]`)), chromedp.CSS("#adoption-heading"))
		if loc := b.location(t); !strings.HasSuffix(loc, "/tools/fr/petitions-hub") {
			t.Fatalf("after create, at %s", loc)
		}
		if h1 := b.text(t, chromedp.CSS("h1")); h1 != "Petitions Hub" {
			t.Errorf("the new tool's page is titled %q", h1)
		}

		b.visit(t, "find", n.base+"/", chromedp.CSS("#q"))
		b.do(t, "find-query", chromedp.SendKeys(chromedp.CSS("#q"), "petitions"))
		b.navigateBy(t, "found", chromedp.Click(chromedp.CSS(`form.search button[type="submit"]`)), chromedp.CSS(`ol.tools a[href="/tools/fr/petitions-hub"]`))
	})

	t.Run("a form error beside its field", func(t *testing.T) {
		b.visit(t, "bad-tool", n.base+"/tools/new", chromedp.CSS("#display_name"))
		b.do(t, "bad-tool-fill",
			chromedp.SendKeys(chromedp.CSS("#display_name"), "Broken"),
			chromedp.SendKeys(chromedp.CSS("#d0_short"), "A tool with a bad address"),
			chromedp.SendKeys(chromedp.CSS("#repository_url"), "not a url"),
		)
		b.navigateBy(t, "bad-tool-refused", chromedp.Click(chromedp.CSS(`form.curate button[type="submit"]`)), chromedp.CSS("#repository_url-error"))
		msg := b.text(t, chromedp.CSS("#repository_url-error"))
		if !strings.Contains(msg, `"not a url" is not an http or https URL`) {
			t.Errorf("the repository's error says %q", msg)
		}
		// Beside its field: in the same field block, named by the input's
		// aria-describedby, with what was typed kept.
		beside := b.eval(t, `(() => {
			const input = document.getElementById("repository_url");
			const err = document.getElementById("repository_url-error");
			return String(err.closest(".field") === input.closest(".field")
				&& input.getAttribute("aria-describedby").split(" ").includes("repository_url-error")
				&& input.getAttribute("aria-invalid") === "true"
				&& input.value === "not a url"
				&& document.getElementById("display_name").value === "Broken");
		})()`)
		if beside != "true" {
			t.Error("the error is not beside the repository field, or the form lost what was typed")
		}
		// Only that field is in error.
		if n := b.eval(t, `String(document.querySelectorAll(".field-error").length)`); n != "1" {
			t.Errorf("%s fields in error, want 1", n)
		}
	})

	t.Run("French", func(t *testing.T) {
		b.visit(t, "fr-search", n.base+"/?lang=fr", chromedp.CSS("#q"))
		if h1 := b.text(t, chromedp.CSS("h1")); h1 != "Outils numériques pour le gouvernement ouvert" {
			t.Errorf("the French search page is titled %q", h1)
		}
		if lang := b.eval(t, `document.documentElement.lang`); lang != "fr" {
			t.Errorf("html lang %q", lang)
		}
		b.visit(t, "fr-tool", n.base+"/tools/fr/decidim", chromedp.CSS("#adoption-heading"))
		if h := b.text(t, chromedp.CSS("#adoption-heading")); h != "Adoption dans la fédération" {
			t.Errorf("the French adoption heading is %q", h)
		}
		if lead := b.text(t, chromedp.CSS(".record-head .lead")); !strings.HasPrefix(lead, "Démocratie participative") {
			t.Errorf("the French reader gets the description %q", lead)
		}
		b.visit(t, "fr-federation", n.base+"/federation", chromedp.CSS("#members-heading"))
		b.visit(t, "en-again", n.base+"/?lang=en", chromedp.CSS("#q"))
	})
}

// browser is one headless Chromium tab for a test, and where its
// screenshots go.
type browser struct {
	ctx   context.Context
	dir   string
	shots int
}

// newBrowser starts Debian's chromium, headless. Its absence fails the
// test: the "done when" is these tests, and CI installs it.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("the browser tests need Chromium: install Debian's chromium (apt-get install chromium): %v", err)
	}
	dir := t.TempDir()
	if root := os.Getenv("OGPNODE_TEST_ARTIFACTS"); root != "" {
		if dir, err = filepath.Abs(filepath.Join(root, "web", regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))); err != nil {
			t.Fatal(err)
		}
		os.RemoveAll(dir) // the screenshots of this run only
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("screenshots of the pages visited: %s", dir)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("accept-lang", "en-US,en"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, browserTimeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium (%s): %v", path, err)
	}
	return &browser{ctx: ctx, dir: dir}
}

// visit opens url, waits until ready is visible, and saves a screenshot.
func (b *browser) visit(t *testing.T, name, url string, ready chromedp.CSS) {
	t.Helper()
	b.do(t, name, chromedp.Navigate(url), chromedp.WaitVisible(ready))
	b.screenshot(t, name)
}

// navigateBy runs an action that leaves the page (a click on a link or a
// submit button), waits for the next page to load and for ready to be
// visible on it, and saves a screenshot.
func (b *browser) navigateBy(t *testing.T, name string, action chromedp.Action[chromedp.Void], ready chromedp.CSS) {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, action)); err != nil {
		b.fail(t, name, err)
	}
	b.do(t, name, chromedp.WaitVisible(ready))
	b.screenshot(t, name)
}

// do runs steps; on error it saves a screenshot of where the page stood.
func (b *browser) do(t *testing.T, name string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.fail(t, name, err)
	}
}

func (b *browser) fail(t *testing.T, name string, err error) {
	t.Helper()
	shot := b.screenshot(t, name+"-failed")
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	t.Fatalf("%s: %v (page %s, screenshot %s)", name, err, loc, shot)
}

func (b *browser) text(t *testing.T, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(sel))
	if err != nil {
		b.fail(t, "text of "+string(sel), err)
	}
	return strings.TrimSpace(s)
}

// eval is the value of a JavaScript expression that gives a string.
func (b *browser) eval(t *testing.T, expr string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.fail(t, "evaluate", err)
	}
	return s
}

func (b *browser) location(t *testing.T) string {
	t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.fail(t, "location", err)
	}
	return loc
}

// screenshot saves the whole page as a PNG, numbered in the order of the
// visit, and returns its path ("" if it could not be taken).
func (b *browser) screenshot(t *testing.T, name string) string {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.shots++
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shots, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	return path
}
