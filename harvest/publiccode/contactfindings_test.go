package publiccode

import (
	"strings"
	"testing"
)

// TestFindingsQuoteNoContact: a harvest report is public, and kept after
// its entry is gone (README, "Personal data": a harvest report quotes no
// contact's value). A contact written the wrong way (a line of text for
// the mapping, the list given as one line, a phone number as a list)
// must be reported by its key and line, without the person's name,
// address or phone number.
func TestFindingsQuoteNoContact(t *testing.T) {
	for what, line := range map[string]string{
		"a contact as a line of text":   "- Dario Bianchi <dario.bianchi@fornitore.it> +391624231322",
		"an e-mail address with a name": "- name: Dario Bianchi\n      email: Dario Bianchi <dario.bianchi@fornitore.it>",
		"a phone as a mapping":          "- name: Dario Bianchi\n      phone: {mobile: \"+391624231322\"}",
	} {
		res := Parse([]byte(edit(t, "- name: Francesco Rossi", line)), "m")
		for _, f := range append(res.Errors, res.Warnings...) {
			for _, pd := range []string{"Dario", "dario.bianchi@fornitore.it", "391624231322"} {
				if strings.Contains(f.GetMessage(), pd) {
					t.Errorf("%s: the finding at %s quotes %q: %s", what, f.GetKey(), pd, f.GetMessage())
				}
			}
		}
	}
}
