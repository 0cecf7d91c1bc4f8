package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
)

// brokenWords lists the words of the page's tables that the browser broke
// across lines.
const brokenWords = `(() => {
  const bad = [];
  for (const cell of document.querySelectorAll('table th, table td')) {
    const w = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let n;
    while ((n = w.nextNode())) {
      const re = /\S+/g; let m;
      while ((m = re.exec(n.data))) {
        const r = document.createRange();
        r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (tops.size > 1) bad.push(m[0]);
      }
    }
  }
  return JSON.stringify(bad);
})()`

// TestTablesScrollRatherThanBreakWords: the federation page's tables sit
// in a region that scrolls sideways on a phone (.table-wrap); their
// headers and numbers must not be broken in the middle of a word, which
// overflow-wrap: anywhere on main, inherited by every cell, lets the table
// do to fit the screen instead.
func TestTablesScrollRatherThanBreakWords(t *testing.T) {
	dir := dataWithPeerRecords(t, "de", peerRecord{federationv1.RecordKind_RECORD_KIND_TOOL, "one", &catalogv1.Tool{Name: "origins/de/tools/one", Origin: "de", Seq: 1,
		DisplayName: "One", Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "A tool"}}}})
	n := startNodeIn(t, dir)
	b := newBrowser(t)
	b.do(t, "phone-viewport", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	for name, path := range map[string]string{"federation-en": "/federation", "federation-fr": "/federation?lang=fr"} {
		b.visit(t, name, n.base+path, chromedp.CSS("main"))
		if broken := b.eval(t, brokenWords); broken != "[]" {
			t.Errorf("on a phone, %s breaks words of its tables: %s", path, broken)
		}
	}
}
