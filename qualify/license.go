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
// may choose it). A license WITH an exception on the SPDX list of
// exceptions counts as its license does, since such an exception only
// grants more; with any other (a peer's records are not validated:
// "Apache-2.0 WITH Commons-Clause" takes rights away), it is not open. The
// deprecated identifiers of a GPL with an exception
// ("GPL-2.0-with-classpath-exception") count as the GPL they name, as
// their SPDX replacements do (GPL-2.0-only WITH Classpath-exception-2.0).
// LicenseRef- licenses are a source's own text, which the OSI has not
// approved.
func openLicense(expr string) result {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return notMetBecause("No license is declared.")
	}
	if len(expr) > spdx.MaxExpression {
		// Not quoted in the reason, as one that does not parse is.
		return notMetBecause("The license expression is longer than " + strconv.Itoa(spdx.MaxExpression) + " bytes.")
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
	choices := map[*spdx.Expression]*spdx.Expression{}
	choice := approvedChoice(e, choices)
	if choice == nil {
		blocking := blockers(e, choices)
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
// choice, from having one, each once (compared case-insensitively, as SPDX
// identifiers are), in the order they appear: for an AND those of its
// operands that have no choice, for an OR those of both. choices holds
// approvedChoice's answer for every part of e.
func blockers(e *spdx.Expression, choices map[*spdx.Expression]*spdx.Expression) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(e *spdx.Expression)
	walk = func(e *spdx.Expression) {
		switch e.Op {
		case "":
			name := e.License
			if e.Exception != "" && !spdx.IsException(e.Exception) {
				name += " WITH " + e.Exception // the exception is what blocks
			}
			if id := strings.ToLower(name); !seen[id] {
				seen[id] = true
				out = append(out, name)
			}
		case "AND":
			for _, operand := range []*spdx.Expression{e.Left, e.Right} {
				if choices[operand] == nil {
					walk(operand)
				}
			}
		default: // OR
			walk(e.Left)
			walk(e.Right)
		}
	}
	walk(e)
	return out
}

// allOSIApproved reports whether every license e names is OSI-approved.
func allOSIApproved(e *spdx.Expression) bool {
	if e.Op == "" {
		return licenseApproved(e)
	}
	return allOSIApproved(e.Left) && allOSIApproved(e.Right)
}

// licenseApproved reports whether e, a license and maybe an exception, is
// OSI-approved (see openLicense).
func licenseApproved(e *spdx.Expression) bool {
	if e.Exception != "" && !spdx.IsException(e.Exception) {
		return false
	}
	id := e.License
	if base, ok := spdx.GPLWithException(id); ok {
		id = base
	}
	return spdx.IsOSIApproved(id)
}

// approvedChoice returns the licenses that someone using the tool under e
// can choose so as to use only OSI-approved ones, as an expression (the
// first alternative of each OR that works, read left to right, kept inside
// the ANDs around it), or nil when there is no such choice. It records its
// answer for every part of e it looks at in choices.
func approvedChoice(e *spdx.Expression, choices map[*spdx.Expression]*spdx.Expression) *spdx.Expression {
	var choice *spdx.Expression
	switch e.Op {
	case "":
		if licenseApproved(e) {
			choice = e
		}
	case "AND":
		l, r := approvedChoice(e.Left, choices), approvedChoice(e.Right, choices)
		if l != nil && r != nil {
			choice = &spdx.Expression{Op: "AND", Left: l, Right: r}
		}
	default: // OR: both sides looked at, for blockers
		l, r := approvedChoice(e.Left, choices), approvedChoice(e.Right, choices)
		choice = l
		if l == nil {
			choice = r
		}
	}
	choices[e] = choice
	return choice
}
