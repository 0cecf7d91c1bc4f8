package qualify

import (
	"errors"
	"strconv"
	"strings"

	"github.com/ogptoolbox/federation/spdx"
)

// openLicense says whether the SPDX expression expr is open source as the
// Open Source Initiative defines it: every license of an AND must be
// OSI-approved, one alternative of an OR is enough (whoever uses the tool
// may choose it). A license WITH an exception counts as its license does,
// since an exception only grants more. LicenseRef- licenses are a source's
// own text, which the OSI has not approved.
func openLicense(expr string) result {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return notMetBecause("No license is declared.")
	}
	e, err := spdx.Parse(expr)
	if err != nil {
		msg := err.Error()
		var syntax *spdx.SyntaxError
		if errors.As(err, &syntax) {
			msg = syntax.Msg
		}
		return notMetBecause("The license expression " + strconv.Quote(expr) + " does not parse: " + msg + ".")
	}
	text := e.String()
	choice := approvedChoice(e)
	if choice == nil {
		blocking := blockers(e)
		names := joinAnd(blocking)
		are := "is not an OSI-approved license"
		if len(blocking) > 1 {
			are = "are not OSI-approved licenses"
		}
		switch e.Op {
		case "":
			return notMetBecause(text + " is not an OSI-approved license.")
		case "OR":
			return notMetBecause("No choice in " + text + " is entirely OSI-approved: " + names + " " + are + ".")
		default:
			return notMetBecause(text + " is not entirely OSI-approved: " + names + " " + are + ".")
		}
	}
	if e.Op == "" {
		return metBecause(text + " is an OSI-approved license.")
	}
	if allOSIApproved(e) {
		return metBecause(text + " names only OSI-approved licenses.")
	}
	return metBecause(text + " offers an OSI-approved choice: " + choice.String() + ".")
}

// blockers returns the licenses that keep e, which has no OSI-approved
// choice, from having one, each once, in the order they appear: for an AND
// those of its operands that have no choice, for an OR those of both.
func blockers(e *spdx.Expression) []string {
	switch e.Op {
	case "":
		return []string{e.License}
	case "AND":
		var out []string
		for _, operand := range []*spdx.Expression{e.Left, e.Right} {
			if approvedChoice(operand) == nil {
				out = union(out, blockers(operand))
			}
		}
		return out
	default: // OR
		return union(blockers(e.Left), blockers(e.Right))
	}
}

// allOSIApproved reports whether every license e names is OSI-approved.
func allOSIApproved(e *spdx.Expression) bool {
	for _, id := range e.Licenses() {
		if !spdx.IsOSIApproved(id) {
			return false
		}
	}
	return true
}

// approvedChoice returns the licenses that someone using the tool under e
// can choose so as to use only OSI-approved ones, as an expression (the
// first alternative of each OR that works, read left to right, kept inside
// the ANDs around it), or nil when there is no such choice.
func approvedChoice(e *spdx.Expression) *spdx.Expression {
	switch e.Op {
	case "":
		if spdx.IsOSIApproved(e.License) {
			return e
		}
		return nil
	case "AND":
		l, r := approvedChoice(e.Left), approvedChoice(e.Right)
		if l == nil || r == nil {
			return nil
		}
		return &spdx.Expression{Op: "AND", Left: l, Right: r}
	default: // OR
		if l := approvedChoice(e.Left); l != nil {
			return l
		}
		return approvedChoice(e.Right)
	}
}

// union appends the items of b missing from a, compared case-insensitively
// as SPDX identifiers are.
func union(a, b []string) []string {
	out := append([]string(nil), a...)
next:
	for _, s := range b {
		for _, t := range out {
			if strings.EqualFold(s, t) {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}
