package spdx

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of parentheses, so that a hostile input
// cannot make the recursive parser use unbounded stack.
const maxDepth = 64

const (
	documentRefPrefix = "DocumentRef-"
	licenseRefPrefix  = "LicenseRef-"
)

// Expression is a parsed SPDX license expression: a binary tree whose
// leaves are licenses, each with an optional "+" and exception.
//
// A leaf has Op == "" and License set; a compound expression has Op "AND"
// or "OR" and both Left and Right set. AND binds tighter than OR and both
// associate to the left, so "A OR B AND C OR D" is
// OR(OR(A, AND(B, C)), D).
type Expression struct {
	// Op is "" for a license, "AND" or "OR" for a compound expression.
	Op string

	// License is the license identifier, without "+": an SPDX identifier
	// in the casing of the SPDX License List when it is on the list ("mit"
	// becomes "MIT"), as written otherwise, or a reference such as
	// "LicenseRef-x" or "DocumentRef-d:LicenseRef-x". Empty when Op != "".
	License string

	// OrLater is true when the license was followed by "+" ("this version
	// or any later one"). It is never true for a reference.
	OrLater bool

	// Exception is the license exception identifier given after WITH, in
	// the casing of the SPDX list when it is on the list, or "".
	Exception string

	// Left and Right are the operands of Op; nil when Op == "".
	Left, Right *Expression
}

// SyntaxError is the error Parse returns for an expression that does not
// follow the SPDX grammar.
type SyntaxError struct {
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Msg says what is wrong, for a person.
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("spdx: at offset %d: %s", e.Offset, e.Msg)
}

// String returns the canonical text of e: tokens separated by single
// spaces, and parentheses only where precedence needs them (an OR inside an
// AND). String of a nil Expression is "".
func (e *Expression) String() string {
	if e == nil {
		return ""
	}
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *Expression) write(b *strings.Builder) {
	if e.Op == "" {
		b.WriteString(e.License)
		if e.OrLater {
			b.WriteByte('+')
		}
		if e.Exception != "" {
			b.WriteString(" WITH ")
			b.WriteString(e.Exception)
		}
		return
	}
	for i, operand := range []*Expression{e.Left, e.Right} {
		if i == 1 {
			b.WriteString(" " + e.Op + " ")
		}
		if e.Op == "AND" && operand.Op == "OR" {
			b.WriteByte('(')
			operand.write(b)
			b.WriteByte(')')
		} else {
			operand.write(b)
		}
	}
}

// Licenses returns the licenses and references that e names, in the order
// they appear, each once (compared case-insensitively), without "+" and
// without exceptions.
func (e *Expression) Licenses() []string {
	return e.leaves(func(n *Expression) string { return n.License })
}

// leaves returns what name gives of each license of e, in the order they
// appear, each once (compared case-insensitively).
func (e *Expression) leaves(name func(*Expression) string) []string {
	var ids []string
	seen := map[string]bool{}
	e.walk(func(n *Expression) {
		if n.Op != "" {
			return
		}
		id := name(n)
		if key := strings.ToLower(id); !seen[key] {
			seen[key] = true
			ids = append(ids, id)
		}
	})
	return ids
}

// walk calls f for every node of e, in order.
func (e *Expression) walk(f func(*Expression)) {
	if e == nil {
		return
	}
	e.Left.walk(f)
	f(e)
	e.Right.walk(f)
}

// MaxExpression is the length, in bytes, of the longest expression Parse
// takes: those of real catalogs are a few dozen bytes, and a record a peer
// relays is not validated before it is qualified.
const MaxExpression = 1000

// Parse parses an SPDX license expression. It checks the syntax only: the
// identifiers need not be on the SPDX License List (see Validate), but known
// ones are given their canonical casing. An empty or blank expr is an error,
// as is one longer than MaxExpression. Every error is a *SyntaxError.
func Parse(expr string) (*Expression, error) {
	if len(expr) > MaxExpression {
		return nil, &SyntaxError{Offset: MaxExpression, Msg: fmt.Sprintf("the expression is longer than %d bytes", MaxExpression)}
	}
	toks := lex(expr)
	if len(toks) == 1 { // only the end
		return nil, &SyntaxError{Offset: 0, Msg: "empty license expression"}
	}
	p := &parser{toks: toks}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEnd {
		return nil, p.unexpected(t)
	}
	return e, nil
}

type tokenKind int

const (
	tokEnd tokenKind = iota
	tokWord
	tokOpen
	tokClose
)

type tok struct {
	kind tokenKind
	text string
	off  int
}

// lex splits expr into words and parentheses, ending with a tokEnd at
// len(expr). A word is a run of characters other than white space and
// parentheses; its characters are checked by the parser.
func lex(expr string) []tok {
	var toks []tok
	for i := 0; i < len(expr); {
		switch c := expr[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, tok{tokOpen, "(", i})
			i++
		case c == ')':
			toks = append(toks, tok{tokClose, ")", i})
			i++
		default:
			start := i
			for i < len(expr) && !strings.ContainsRune(" \t\n\r()", rune(expr[i])) {
				i++
			}
			toks = append(toks, tok{tokWord, expr[start:i], start})
		}
	}
	return append(toks, tok{tokEnd, "", len(expr)})
}

type parser struct {
	toks  []tok
	pos   int
	depth int
}

func (p *parser) peek() tok { return p.toks[p.pos] }

func (p *parser) next() tok {
	t := p.toks[p.pos]
	if t.kind != tokEnd {
		p.pos++
	}
	return t
}

// prev returns the text of the token before the current one, or "".
func (p *parser) prev() string {
	if p.pos == 0 {
		return ""
	}
	return p.toks[p.pos-1].text
}

func (t tok) is(word string) bool { return t.kind == tokWord && t.text == word }

func errAt(off int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// parseOr parses: and-expression *("OR" and-expression).
func (p *parser) parseOr() (*Expression, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.peek().is("OR") {
		p.next()
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &Expression{Op: "OR", Left: left, Right: right}
	}
	return left, nil
}

// parseAnd parses: primary *("AND" primary).
func (p *parser) parseAnd() (*Expression, error) {
	left, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for p.peek().is("AND") {
		p.next()
		right, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		left = &Expression{Op: "AND", Left: left, Right: right}
	}
	return left, nil
}

// parsePrimary parses: "(" or-expression ")" / license [ "WITH" exception ].
func (p *parser) parsePrimary() (*Expression, error) {
	t := p.peek()
	switch {
	case t.kind == tokEnd:
		return nil, p.missingLicense(t)
	case t.kind == tokClose:
		return nil, p.missingLicense(t)
	case t.kind == tokOpen:
		if p.depth == maxDepth {
			return nil, errAt(t.off, "parentheses nested more than %d deep", maxDepth)
		}
		p.depth++
		p.next()
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		switch c := p.peek(); c.kind {
		case tokClose:
			p.next()
		case tokEnd:
			return nil, errAt(c.off, "missing \")\" to close the \"(\" at offset %d", t.off)
		default:
			return nil, p.unexpected(c)
		}
		p.depth--
		if w := p.peek(); w.is("WITH") {
			return nil, errAt(w.off, "WITH must follow a license identifier, not a parenthesized expression")
		}
		return e, nil
	case isOperator(t.text):
		return nil, p.missingLicense(t)
	}
	e, err := parseLicense(t)
	if err != nil {
		return nil, err
	}
	p.next()
	if !p.peek().is("WITH") {
		return e, nil
	}
	p.next()
	x := p.peek()
	if x.kind != tokWord || isOperator(x.text) {
		if x.kind == tokEnd {
			return nil, errAt(x.off, "expected a license exception identifier after \"WITH\"")
		}
		return nil, errAt(x.off, "expected a license exception identifier after \"WITH\", found %q", x.text)
	}
	if e.Exception, err = parseException(x); err != nil {
		return nil, err
	}
	p.next()
	if w := p.peek(); w.is("WITH") {
		return nil, errAt(w.off, "a license takes one exception only: found a second WITH")
	}
	return e, nil
}

// missingLicense reports that t stands where a license was expected.
func (p *parser) missingLicense(t tok) error {
	after := ""
	if prev := p.prev(); prev != "" {
		after = fmt.Sprintf(" after %q", prev)
	}
	switch {
	case t.kind == tokEnd:
		return errAt(t.off, "expected a license identifier%s", after)
	case t.kind == tokWord && isOperator(t.text):
		return errAt(t.off, "expected a license identifier%s, found the operator %q", after, t.text)
	default:
		return errAt(t.off, "expected a license identifier%s, found %q", after, t.text)
	}
}

// unexpected reports that t stands where an operator, a closing parenthesis
// or the end of the expression was expected.
func (p *parser) unexpected(t tok) error {
	prev := p.prev()
	switch {
	case t.kind == tokClose:
		return errAt(t.off, "unexpected \")\" without a matching \"(\"")
	case t.kind == tokOpen:
		return errAt(t.off, "expected AND or OR between %q and \"(\"", prev)
	case isOperator(t.text):
		// Only a lowercase or mixed-case operator gets here: AND and OR
		// are consumed by the parser and WITH is handled in parsePrimary.
		return errAt(t.off, "operator %q must be uppercase: use %q", t.text, strings.ToUpper(t.text))
	case strings.HasPrefix(t.text, "+"):
		return errAt(t.off, "\"+\" must directly follow a license identifier, without a space")
	case p.pos >= 1 && p.toks[p.pos-1].kind == tokClose, p.pos >= 2 && p.toks[p.pos-2].is("WITH"):
		// WITH cannot follow a parenthesized expression or an exception.
		return errAt(t.off, "expected AND or OR after %q, found %q", prev, t.text)
	default:
		return errAt(t.off, "expected AND, OR or WITH after %q, found %q", prev, t.text)
	}
}

// isOperator reports whether word is AND, OR or WITH in any case.
func isOperator(word string) bool {
	return strings.EqualFold(word, "AND") || strings.EqualFold(word, "OR") || strings.EqualFold(word, "WITH")
}

// parseLicense parses a license-id with an optional "+", or a license-ref.
func parseLicense(t tok) (*Expression, error) {
	w := t.text
	if hasPrefixFold(w, documentRefPrefix) || hasPrefixFold(w, licenseRefPrefix) {
		ref, err := parseRef(t)
		if err != nil {
			return nil, err
		}
		return &Expression{License: ref}, nil
	}
	id, orLater := strings.CutSuffix(w, "+")
	if id == "" {
		return nil, errAt(t.off, "expected a license identifier before \"+\"")
	}
	if i := badIDChar(id); i >= 0 {
		if id[i] == '+' {
			return nil, errAt(t.off+i, "\"+\" can only end a license identifier, in %q", w)
		}
		return nil, badChar(t.off, w, i, "license identifier")
	}
	return &Expression{License: canonicalLicense(id), OrLater: orLater}, nil
}

// parseRef parses ["DocumentRef-" idstring ":"] "LicenseRef-" idstring,
// giving the prefixes their canonical casing.
func parseRef(t tok) (string, error) {
	w := t.text
	if strings.HasSuffix(w, "+") {
		return "", errAt(t.off+len(w)-1, "\"+\" cannot follow a LicenseRef, in %q", w)
	}
	rest, doc := w, ""
	if hasPrefixFold(w, documentRefPrefix) {
		var ok bool
		doc, rest, ok = strings.Cut(w[len(documentRefPrefix):], ":")
		if !ok {
			return "", errAt(t.off, "expected \":LicenseRef-\" after the document reference in %q", w)
		}
		if err := checkIDString(t.off+len(documentRefPrefix), w, len(documentRefPrefix), doc, "DocumentRef"); err != nil {
			return "", err
		}
		if !hasPrefixFold(rest, licenseRefPrefix) {
			return "", errAt(t.off+len(w)-len(rest), "expected \"LicenseRef-\" after \":\" in %q", w)
		}
		doc = documentRefPrefix + doc + ":"
	}
	id := rest[len(licenseRefPrefix):]
	start := len(w) - len(id)
	if err := checkIDString(t.off+start, w, start, id, "LicenseRef"); err != nil {
		return "", err
	}
	return doc + licenseRefPrefix + id, nil
}

// checkIDString checks the idstring s, found at byte start of the word w,
// which is at offset off - start of the input.
func checkIDString(off int, w string, start int, s, what string) error {
	if s == "" {
		return errAt(off, "empty %s name in %q", what, w)
	}
	if i := badIDChar(s); i >= 0 {
		return badChar(off-start, w, start+i, what)
	}
	return nil
}

// parseException parses a license-exception-id.
func parseException(t tok) (string, error) {
	w := t.text
	if hasPrefixFold(w, documentRefPrefix) || hasPrefixFold(w, licenseRefPrefix) {
		return "", errAt(t.off, "expected a license exception identifier after \"WITH\", found the license reference %q", w)
	}
	if i := badIDChar(w); i >= 0 {
		if w[i] == '+' {
			return "", errAt(t.off+i, "\"+\" cannot be part of a license exception identifier, in %q", w)
		}
		return "", badChar(t.off, w, i, "license exception identifier")
	}
	return canonicalException(w), nil
}

// badIDChar returns the index of the first byte of s that an SPDX idstring
// does not allow (letters, digits, "-" and "."), or -1.
func badIDChar(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return i
		}
	}
	return -1
}

// badChar reports the character at byte i of the word w, which starts at
// offset off.
func badChar(off int, w string, i int, what string) error {
	r, _ := utf8.DecodeRuneInString(w[i:])
	hint := ""
	if strings.ContainsRune(",;/&|", r) && what == "license identifier" {
		hint = "; combine licenses with AND or OR"
	}
	return errAt(off+i, "invalid character %q in %s %q: only letters, digits, \"-\" and \".\" are allowed%s", r, what, w, hint)
}

// isRef reports whether a parsed license is a LicenseRef or DocumentRef.
func isRef(license string) bool {
	return strings.HasPrefix(license, licenseRefPrefix) || strings.HasPrefix(license, documentRefPrefix)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
