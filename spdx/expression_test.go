package spdx

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in           string
		wantString   string
		wantLicenses []string
	}{
		{"MIT", "MIT", []string{"MIT"}},
		{"mit", "MIT", []string{"MIT"}},
		{"GPL-3.0-or-later", "GPL-3.0-or-later", []string{"GPL-3.0-or-later"}},
		{"AGPL-3.0+", "AGPL-3.0+", []string{"AGPL-3.0"}},
		{"GPL-2.0+ WITH Classpath-exception-2.0", "GPL-2.0+ WITH Classpath-exception-2.0", []string{"GPL-2.0"}},
		{"Apache-2.0 WITH LLVM-exception", "Apache-2.0 WITH LLVM-exception", []string{"Apache-2.0"}},
		{"apache-2.0 WITH llvm-exception", "Apache-2.0 WITH LLVM-exception", []string{"Apache-2.0"}},
		{"(MIT OR Apache-2.0) AND BSD-3-Clause", "(MIT OR Apache-2.0) AND BSD-3-Clause", []string{"MIT", "Apache-2.0", "BSD-3-Clause"}},
		{"MIT OR Apache-2.0 AND BSD-3-Clause", "MIT OR Apache-2.0 AND BSD-3-Clause", []string{"MIT", "Apache-2.0", "BSD-3-Clause"}},
		{"MIT OR (Apache-2.0 AND BSD-3-Clause)", "MIT OR Apache-2.0 AND BSD-3-Clause", []string{"MIT", "Apache-2.0", "BSD-3-Clause"}},
		{"LicenseRef-my-license", "LicenseRef-my-license", []string{"LicenseRef-my-license"}},
		{"licenseref-My.License-2", "LicenseRef-My.License-2", []string{"LicenseRef-My.License-2"}},
		{"DocumentRef-x:LicenseRef-y", "DocumentRef-x:LicenseRef-y", []string{"DocumentRef-x:LicenseRef-y"}},
		{"LicenseRef-x WITH LLVM-exception", "LicenseRef-x WITH LLVM-exception", []string{"LicenseRef-x"}},
		{"EUPL-1.2", "EUPL-1.2", []string{"EUPL-1.2"}},
		{"(MIT)", "MIT", []string{"MIT"}},
		{"((((MIT))))", "MIT", []string{"MIT"}},
		{
			"((MIT OR (Apache-2.0 AND BSD-2-Clause)) AND (GPL-2.0-only WITH Classpath-exception-2.0 OR LGPL-2.1-or-later))",
			"(MIT OR Apache-2.0 AND BSD-2-Clause) AND (GPL-2.0-only WITH Classpath-exception-2.0 OR LGPL-2.1-or-later)",
			[]string{"MIT", "Apache-2.0", "BSD-2-Clause", "GPL-2.0-only", "LGPL-2.1-or-later"},
		},
		{"MIT AND (Apache-2.0 AND BSD-2-Clause)", "MIT AND Apache-2.0 AND BSD-2-Clause", []string{"MIT", "Apache-2.0", "BSD-2-Clause"}},
		{"  MIT\tOR\nApache-2.0\r\n", "MIT OR Apache-2.0", []string{"MIT", "Apache-2.0"}},
		{"(MIT)AND(ISC)", "MIT AND ISC", []string{"MIT", "ISC"}},
		{"MIT OR mit OR MIT AND Apache-2.0", "MIT OR MIT OR MIT AND Apache-2.0", []string{"MIT", "Apache-2.0"}},
		{"Unknown-1.0 OR gpl3", "Unknown-1.0 OR gpl3", []string{"Unknown-1.0", "gpl3"}}, // syntax only
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.in, err)
			}
			if got := e.String(); got != tt.wantString {
				t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.wantString)
			}
			if diff := cmp.Diff(e.Licenses(), tt.wantLicenses); diff != "" {
				t.Errorf("Parse(%q).Licenses() mismatch (-got +want):\n%s", tt.in, diff)
			}
			again, err := Parse(e.String())
			if err != nil {
				t.Fatalf("Parse(%q) = %v, re-parsing the String of %q", e.String(), err, tt.in)
			}
			if got := again.String(); got != tt.wantString {
				t.Errorf("round trip of %q: got %q, want %q", tt.in, got, tt.wantString)
			}
		})
	}
}

func TestParseTree(t *testing.T) {
	lic := func(id string) *Expression { return &Expression{License: id} }
	tests := []struct {
		in   string
		want *Expression
	}{
		{"MIT", lic("MIT")},
		{"AGPL-3.0+", &Expression{License: "AGPL-3.0", OrLater: true}},
		{"Apache-2.0 WITH LLVM-exception", &Expression{License: "Apache-2.0", Exception: "LLVM-exception"}},
		{"A OR B AND C OR D", &Expression{
			Op: "OR",
			Left: &Expression{
				Op:    "OR",
				Left:  lic("A"),
				Right: &Expression{Op: "AND", Left: lic("B"), Right: lic("C")},
			},
			Right: lic("D"),
		}},
		{"(A OR B) AND C", &Expression{
			Op:    "AND",
			Left:  &Expression{Op: "OR", Left: lic("A"), Right: lic("B")},
			Right: lic("C"),
		}},
		{"A AND B AND C", &Expression{
			Op:    "AND",
			Left:  &Expression{Op: "AND", Left: lic("A"), Right: lic("B")},
			Right: lic("C"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.in, err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Parse(%q) mismatch (-got +want):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		in   string
		want SyntaxError
	}{
		{"", SyntaxError{0, "empty license expression"}},
		{" \t\n", SyntaxError{0, "empty license expression"}},
		{strings.Repeat("MIT OR ", 200) + "MIT", SyntaxError{MaxExpression, "the expression is longer than 1000 bytes"}},
		{"MIT AND", SyntaxError{7, `expected a license identifier after "AND"`}},
		{"MIT OR", SyntaxError{6, `expected a license identifier after "OR"`}},
		{"(MIT", SyntaxError{4, `missing ")" to close the "(" at offset 0`}},
		{"((MIT OR ISC) AND Apache-2.0", SyntaxError{28, `missing ")" to close the "(" at offset 0`}},
		{"MIT)", SyntaxError{3, `unexpected ")" without a matching "("`}},
		{"()", SyntaxError{1, `expected a license identifier after "(", found ")"`}},
		{"MIT OR OR", SyntaxError{7, `expected a license identifier after "OR", found the operator "OR"`}},
		{"AND MIT", SyntaxError{0, `expected a license identifier, found the operator "AND"`}},
		{"MIT mit", SyntaxError{4, `expected AND, OR or WITH after "MIT", found "mit"`}},
		{"GPL 3", SyntaxError{4, `expected AND, OR or WITH after "GPL", found "3"`}},
		{"MIT and Apache-2.0", SyntaxError{4, `operator "and" must be uppercase: use "AND"`}},
		{"MIT or Apache-2.0", SyntaxError{4, `operator "or" must be uppercase: use "OR"`}},
		{"GPL-2.0-only With Classpath-exception-2.0", SyntaxError{13, `operator "With" must be uppercase: use "WITH"`}},
		{"MIT OR and", SyntaxError{7, `expected a license identifier after "OR", found the operator "and"`}},
		{"WITH", SyntaxError{0, `expected a license identifier, found the operator "WITH"`}},
		{"MIT WITH", SyntaxError{8, `expected a license exception identifier after "WITH"`}},
		{"MIT WITH OR ISC", SyntaxError{9, `expected a license exception identifier after "WITH", found "OR"`}},
		{"MIT WITH (LLVM-exception)", SyntaxError{9, `expected a license exception identifier after "WITH", found "("`}},
		{"MIT WITH LicenseRef-x", SyntaxError{9, `expected a license exception identifier after "WITH", found the license reference "LicenseRef-x"`}},
		{"MIT WITH LLVM-exception+", SyntaxError{23, `"+" cannot be part of a license exception identifier, in "LLVM-exception+"`}},
		{"MIT WITH A WITH B", SyntaxError{11, `a license takes one exception only: found a second WITH`}},
		{"MIT WITH A B", SyntaxError{11, `expected AND or OR after "A", found "B"`}},
		{"(MIT OR Apache-2.0) WITH LLVM-exception", SyntaxError{20, `WITH must follow a license identifier, not a parenthesized expression`}},
		{"(MIT) ISC", SyntaxError{6, `expected AND or OR after ")", found "ISC"`}},
		{"MIT (ISC)", SyntaxError{4, `expected AND or OR between "MIT" and "("`}},
		{"MIT +", SyntaxError{4, `"+" must directly follow a license identifier, without a space`}},
		{"+", SyntaxError{0, `expected a license identifier before "+"`}},
		{"GPL-2.0+-only", SyntaxError{7, `"+" can only end a license identifier, in "GPL-2.0+-only"`}},
		{"MIT/Apache-2.0", SyntaxError{3, `invalid character '/' in license identifier "MIT/Apache-2.0": only letters, digits, "-" and "." are allowed; combine licenses with AND or OR`}},
		{"MIT, Apache-2.0", SyntaxError{3, `invalid character ',' in license identifier "MIT,": only letters, digits, "-" and "." are allowed; combine licenses with AND or OR`}},
		{"GPL-3.0_only", SyntaxError{7, `invalid character '_' in license identifier "GPL-3.0_only": only letters, digits, "-" and "." are allowed`}},
		{"MIT\u00a0OR ISC", SyntaxError{3, `invalid character '\u00a0' in license identifier "MIT\u00a0OR": only letters, digits, "-" and "." are allowed`}},
		{"LicenseRef-x+", SyntaxError{12, `"+" cannot follow a LicenseRef, in "LicenseRef-x+"`}},
		{"MIT OR LicenseRef-", SyntaxError{18, `empty LicenseRef name in "LicenseRef-"`}},
		{"LicenseRef-a_b", SyntaxError{12, `invalid character '_' in LicenseRef "LicenseRef-a_b": only letters, digits, "-" and "." are allowed`}},
		{"DocumentRef-x", SyntaxError{0, `expected ":LicenseRef-" after the document reference in "DocumentRef-x"`}},
		{"DocumentRef-x:MIT", SyntaxError{14, `expected "LicenseRef-" after ":" in "DocumentRef-x:MIT"`}},
		{"DocumentRef-:LicenseRef-y", SyntaxError{12, `empty DocumentRef name in "DocumentRef-:LicenseRef-y"`}},
		{"DocumentRef-a/b:LicenseRef-y", SyntaxError{13, `invalid character '/' in DocumentRef "DocumentRef-a/b:LicenseRef-y": only letters, digits, "-" and "." are allowed`}},
		{"DocumentRef-a:LicenseRef-b:c", SyntaxError{26, `invalid character ':' in LicenseRef "DocumentRef-a:LicenseRef-b:c": only letters, digits, "-" and "." are allowed`}},
		{strings.Repeat("(", maxDepth+1) + "MIT" + strings.Repeat(")", maxDepth+1), SyntaxError{maxDepth, "parentheses nested more than 64 deep"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error %q", tt.in, e, tt.want.Error())
			}
			var got *SyntaxError
			if !errors.As(err, &got) {
				t.Fatalf("Parse(%q) error %v is a %T, want a *SyntaxError", tt.in, err, err)
			}
			if diff := cmp.Diff(*got, tt.want); diff != "" {
				t.Errorf("Parse(%q) error mismatch (-got +want):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseMaxDepth(t *testing.T) {
	in := strings.Repeat("(", maxDepth) + "MIT" + strings.Repeat(")", maxDepth)
	e, err := Parse(in)
	if err != nil {
		t.Fatalf("Parse(%d nested parentheses) = %v", maxDepth, err)
	}
	if got, want := e.String(), "MIT"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestSyntaxErrorString(t *testing.T) {
	_, err := Parse("MIT AND Apache-2.0 AND")
	if err == nil {
		t.Fatal("Parse succeeded, want an error")
	}
	if got, want := err.Error(), `spdx: at offset 22: expected a license identifier after "AND"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestNilExpression(t *testing.T) {
	var e *Expression
	if got := e.String(); got != "" {
		t.Errorf("String() of nil = %q, want empty", got)
	}
	if got := e.Licenses(); got != nil {
		t.Errorf("Licenses() of nil = %q, want nil", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"MIT",
		"AGPL-3.0+",
		"Apache-2.0 WITH LLVM-exception",
		"(MIT OR Apache-2.0) AND BSD-3-Clause",
		"MIT OR (Apache-2.0 AND (ISC OR 0BSD))",
		"DocumentRef-x:LicenseRef-y",
		"licenseref-a OR documentref-b:licenseref-c",
		"MIT and Apache-2.0",
		"(MIT",
		"MIT)",
		"GPL 3",
		"MIT WITH A WITH B",
		"((((((((MIT))))))))",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is a %T, want a *SyntaxError", in, err, err)
			}
			if se.Offset < 0 || se.Offset > len(in) {
				t.Fatalf("Parse(%q) error offset %d is outside the input", in, se.Offset)
			}
			return
		}
		s := e.String()
		again, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) = %v; it is the String of Parse(%q)", s, err, in)
		}
		if got := again.String(); got != s {
			t.Fatalf("round trip of %q: Parse(%q).String() = %q", in, s, got)
		}
		if len(e.Licenses()) == 0 {
			t.Fatalf("Parse(%q).Licenses() is empty", in)
		}
		_ = Validate(in)
	})
}

func TestFiled(t *testing.T) {
	for expr, want := range map[string]string{
		"GPL-3.0":                          "GPL-3.0-only",
		"gpl-3.0+":                         "GPL-3.0-or-later",
		"GPL-3.0-only+":                    "GPL-3.0-or-later",
		"GPL-3.0-or-later+":                "GPL-3.0-or-later",
		"LGPL-2.1+ AND AGPL-3.0":           "LGPL-2.1-or-later,AGPL-3.0-only",
		"GFDL-1.3":                         "GFDL-1.3-only",
		"GPL-2.0-with-classpath-exception": "GPL-2.0-only",
		"GPL-2.0-only WITH Classpath-exception-2.0 OR GPL-2.0": "GPL-2.0-only",
		"MPL-1.1+":                  "MPL-1.1",
		"mit OR MIT":                "MIT",
		"LicenseRef-City-Agreement": "LicenseRef-city-agreement",
		"documentref-Spdx-Doc:licenseref-Agreement": "DocumentRef-spdx-doc:LicenseRef-agreement",
		"Foo-1.0+":                          "Foo-1.0",
		"GPL-9.9":                           "GPL-9.9",
		"GFDL-1.3-no-invariants-only+":      "GFDL-1.3-no-invariants-or-later",
		"GFDL-1.3-invariants-only+":         "GFDL-1.3-invariants-or-later",
		"GPL-2.0-with-classpath-exception+": "GPL-2.0-or-later",
		"MIT+":                              "MIT",
	} {
		e, err := Parse(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got := strings.Join(e.Filed(), ","); got != want {
			t.Errorf("%s filed as %s, want %s", expr, got, want)
		}
	}
}
