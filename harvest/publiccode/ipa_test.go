package publiccode

import (
	"strings"
	"sync"
	"testing"
)

// TestIPARegister checks the embedded copy of the register is whole and
// of the form the upstream file has: one urn:x-italian-pa:CODE a line,
// sorted byte by byte, ending with a newline (see data/README.md).
func TestIPARegister(t *testing.T) {
	if !strings.HasSuffix(ipaRegister, "\n") {
		t.Error("the register does not end with a newline: is it cut?")
	}
	lines := strings.Split(strings.TrimSuffix(ipaRegister, "\n"), "\n")
	if len(lines) < 20000 {
		t.Fatalf("the register has %d lines, want the whole register (over 20,000)", len(lines))
	}
	for i, l := range lines {
		code, ok := strings.CutPrefix(l, ipaURNPrefix)
		if !ok || code == "" || strings.ContainsFunc(code, func(r rune) bool {
			return !(r == '_' || r < 128 && isAlnum(byte(r)))
		}) {
			t.Errorf("line %d: %q is not urn:x-italian-pa: and a code of letters, digits and _", i+1, l)
		}
		if i > 0 && lines[i-1] >= l {
			t.Errorf("line %d: %q is not after %q: the register is sorted", i+1, l, lines[i-1])
		}
	}
	if got := len(ipaCodes()); got != len(lines) {
		t.Errorf("ipaCodes has %d codes, want the %d of the register", got, len(lines))
	}
	// Every code is found, as written and in either case.
	for _, l := range lines {
		code := strings.TrimPrefix(l, ipaURNPrefix)
		if !isIPACode(code) || !isIPACode(strings.ToUpper(code)) || !isIPACode(strings.ToLower(code)) {
			t.Errorf("isIPACode(%q) is false for a code of the register", code)
		}
	}
}

func TestIsIPACode(t *testing.T) {
	for _, code := range []string{
		"pcm", "PCM", "Pcm", // Presidenza del Consiglio dei Ministri, PCM in the register
		"c_h501", "C_H501", "c_H501", // Roma Capitale
		"00L7M4KW", "00l7m4kw", // the register's first line
		"xcmml", "XCMML", // its last
		"istsc_rmic8gz00l", "ISTSC_RMIC8GZ00L",
		"\u212Aassc", // a Kelvin sign lower-cases to k, as in the reference: kassc
	} {
		if !isIPACode(code) {
			t.Errorf("isIPACode(%q) = false, want true", code)
		}
	}
	for _, code := range []string{
		"", "no_such_pa", "NO_SUCH_IPA_CODE", "pcm ", " pcm", "pc", "pcmx",
		"c_h50", "c_h5011", "urn:x-italian-pa:pcm", "x-italian-pa:pcm", "0", "zzzzzzzz",
		"c_h501\n", "pcm\u0301", "\u212Axxx",
	} {
		if isIPACode(code) {
			t.Errorf("isIPACode(%q) = true, want false", code)
		}
	}
}

func TestIsIPACodeConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if !isIPACode("c_h501") || isIPACode("no_such_pa") {
					t.Error("wrong answer under concurrent use")
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestIPACodeChecks covers the three places a file names an iPA code, as
// the reference checks them: known codes pass in any case, unknown ones
// are errors on the key, at its line.
func TestIPACodeChecks(t *testing.T) {
	tests := []struct {
		name, file, key string
		line            int32 // 0: the file is accepted
	}{
		{"organisation uri", edit(t, "", "organisation:\n  uri: urn:x-italian-pa:c_h501\n"), "", 0},
		{"organisation uri upper case", edit(t, "", "organisation:\n  uri: URN:X-ITALIAN-PA:C_H501\n"), "", 0},
		{"organisation uri pcm", edit(t, "", "organisation:\n  uri: urn:x-italian-pa:pcm\n"), "", 0},
		{"organisation uri unknown", edit(t, "", "organisation:\n  uri: urn:x-italian-pa:no_such_pa\n"), "organisation.uri", 28},
		{"organisation uri unknown upper case", edit(t, "", "organisation:\n  name: X\n  uri: URN:X-Italian-PA:NO_SUCH_PA\n"), "organisation.uri", 29},
		{"organisation other urn", edit(t, "", "organisation:\n  uri: urn:x-foobar:no_such_pa\n"), "", 0},
		{"funder", edit(t, "", "fundedBy:\n  - name: Roma\n    uri: urn:x-italian-pa:C_h501\n"), "", 0},
		{"funder unknown", edit(t, "", "fundedBy:\n  - name: Roma\n    uri: urn:x-italian-pa:c_h501\n  - name: Nobody\n    uri: urn:x-italian-pa:no_such_pa\n"), "fundedBy[1].uri", 31},
		{"codiceIPA", edit(t, "", "IT:\n  riuso:\n    codiceIPA: C_H501\n"), "", 0},
		{"codiceIPA unknown", edit(t, "", "IT:\n  riuso:\n    codiceIPA: NO_SUCH_IPA_CODE\n"), "IT.riuso.codiceIPA", 29},
		{"lower-case it codiceIPA", edit(t, "", "it:\n  riuso:\n    codiceIPA: pcm\n"), "", 0},
		{"lower-case it codiceIPA unknown", edit(t, "", "it:\n  riuso:\n    codiceIPA: no_such_pa\n"), "it.riuso.codiceIPA", 29},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Parse([]byte(tc.file), "t")
			if tc.line == 0 {
				if res.Entry == nil {
					t.Fatalf("rejected, want accepted; errors:\n%s", listFindings(res.Errors))
				}
				return
			}
			if res.Entry != nil {
				t.Fatalf("accepted, want rejected")
			}
			if !hasFinding(res.Errors, tc.key, tc.line) {
				t.Errorf("no error on %q line %d; errors:\n%s", tc.key, tc.line, listFindings(res.Errors))
			}
		})
	}
}

// BenchmarkIPARegisterLoad measures building the code set, which the
// first file naming an iPA code pays for.
func BenchmarkIPARegisterLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		indexIPARegister(ipaRegister)
	}
}

func BenchmarkIsIPACode(b *testing.B) {
	codes := []string{"c_h501", "PCM", "no_such_pa", "istsc_rmic8gz00l"}
	isIPACode("pcm")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		isIPACode(codes[i%len(codes)])
	}
}
