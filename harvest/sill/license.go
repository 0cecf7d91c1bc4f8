package sill

import (
	"regexp"
	"strings"

	"github.com/ogptoolbox/federation/spdx"
)

// license turns the SILL's licence field into an SPDX license expression,
// or "" when it cannot be done without guessing.
//
// The field is meant to hold SPDX identifiers, and mostly does, but it is
// typed by hand: it also holds lists ("LGPL-2.1, LGPL-2.0,  LGPL-3.0",
// "GPL-2.0-only / LGPL-2.0-only"), spelled-out versions ("GPL V2.0",
// "LGPL-v2.1", "MPL 2.0 et EPL 1.0", "AGPL-3"), "N/A", and names that are
// no SPDX identifier at all ("CPA", "CeCILL-2.2"). license applies only the
// rewrites whose meaning is certain:
//
//   - the spelling of each identifier: spaces to hyphens, "v2.1" to "2.1",
//     "GPL-3" to "GPL-3.0", "BSD-3.0" to "BSD-3-Clause", "or later" to "+",
//     the SPDX casing;
//   - the deprecated GNU identifiers to the ones that replace them
//     ("GPL-2.0" is "GPL-2.0-only", "GPL-2.0+" is "GPL-2.0-or-later"), as the
//     SPDX License List itself defines them;
//   - "or"/"ou" to OR, and "and"/"et" to AND, where the source says so;
//   - a bare list (commas, slashes, semicolons) to AND. A list does not say
//     whether the licences apply together or are offered as a choice, and
//     the SILL has both kinds; AND is the reading that never grants more
//     than the source does (complying with every licence listed is always
//     allowed), as license scanners also conclude from several licences.
//
// When any part names no SPDX license, or the field says there is no
// licence information ("N/A"), the result is "": the catalog reads an empty
// license as unknown, which is the truth, and the record still imports.
func license(field string) string {
	s := strings.TrimSpace(field)
	if s == "" || noLicense[strings.ToUpper(s)] {
		return ""
	}
	if spdx.Validate(s) != nil {
		if s = rewrite(s); s == "" {
			return ""
		}
	}
	e, err := spdx.Parse(s)
	if err != nil {
		return ""
	}
	modernizeGNU(e)
	out := e.String()
	if spdx.Validate(out) != nil {
		return ""
	}
	return out
}

// noLicense are the values (in upper case) that say the SILL has no licence
// to give.
var noLicense = map[string]bool{"N/A": true, "NA": true, "-": true, "?": true, "NOASSERTION": true, "NONE": true, "INCONNU": true, "UNKNOWN": true}

var (
	// orLater is "or later" spelled out after a version, which SPDX writes
	// as a "+".
	orLater = regexp.MustCompile(`(?i)\s+(or|ou)\s+(any\s+)?(later|later\s+version|ultérieure|supérieure)\b`)
	// separator splits a list of licences; the captured word, if any, is
	// the operator the source wrote.
	separator = regexp.MustCompile(`(?i)\s*(?:[,;/&]|\s(and|et|or|ou)\s)\s*`)
	// version is a version number written with a "v" before it ("GPL V2",
	// "LGPL-v2.1"); gluedVersion is one glued to the name ("GPLv3").
	version      = regexp.MustCompile(`(^|[-\s])[vV](\d)`)
	gluedVersion = regexp.MustCompile(`([A-Z])v(\d)`)
	// wholeVersion is an identifier whose version has no minor number
	// ("GPL-3", "Apache-2"), which the SPDX identifiers always write.
	wholeVersion = regexp.MustCompile(`^(.*-\d+)(\+?)$`)
	// bsdClauses is the BSD family written by its number of clauses.
	bsdClauses = regexp.MustCompile(`(?i)^BSD-([234])(?:\.0)?(?:-clauses?)?$`)
	// gnuDeprecated is a deprecated GNU identifier: a version without
	// "-only" or "-or-later".
	gnuDeprecated = regexp.MustCompile(`^((?:A|L)?GPL)-(\d\.\d)(\+?)$`)
)

// rewrite turns a hand-written licence field into an SPDX expression, or
// "" when a part of it is no SPDX license. It gives up on parentheses,
// which only people who write SPDX already use.
func rewrite(s string) string {
	if strings.ContainsAny(s, "()") {
		return ""
	}
	s = strings.Trim(orLater.ReplaceAllString(s, "+"), " ,;/&")
	var b strings.Builder
	for {
		loc := separator.FindStringSubmatchIndex(s)
		term := s
		if loc != nil {
			term = s[:loc[0]]
		}
		id := identifier(term)
		if id == "" {
			return ""
		}
		b.WriteString(id)
		if loc == nil {
			return b.String()
		}
		op := " AND "
		if loc[2] >= 0 {
			if w := strings.ToLower(s[loc[2]:loc[3]]); w == "or" || w == "ou" {
				op = " OR "
			}
		}
		b.WriteString(op)
		s = s[loc[1]:]
	}
}

// identifier returns the SPDX license identifier that term spells, with a
// trailing "+" kept, or "".
func identifier(term string) string {
	t := strings.TrimSpace(term)
	if t == "" {
		return ""
	}
	if isLicense(t) {
		return t
	}
	t = version.ReplaceAllString(t, "$1$2")
	t = gluedVersion.ReplaceAllString(t, "$1-$2")
	t = strings.Join(strings.Fields(t), "-")
	t = strings.ReplaceAll(t, "--", "-")
	if m := bsdClauses.FindStringSubmatch(t); m != nil {
		t = "BSD-" + m[1] + "-Clause"
	}
	if isLicense(t) {
		return t
	}
	if m := wholeVersion.FindStringSubmatch(t); m != nil && isLicense(m[1]+".0"+m[2]) {
		return m[1] + ".0" + m[2]
	}
	return ""
}

// isLicense reports whether s is one license of the SPDX License List, with
// an optional "+".
func isLicense(s string) bool {
	e, err := spdx.Parse(s)
	return err == nil && e.Op == "" && e.Exception == "" && spdx.Validate(s) == nil
}

// modernizeGNU replaces, in place, the deprecated GNU identifiers of e by
// those that the SPDX License List gives in their stead.
func modernizeGNU(e *spdx.Expression) {
	if e == nil {
		return
	}
	if e.Op != "" {
		modernizeGNU(e.Left)
		modernizeGNU(e.Right)
		return
	}
	m := gnuDeprecated.FindStringSubmatch(e.License)
	if m == nil {
		return
	}
	if e.OrLater || m[3] == "+" {
		e.License, e.OrLater = m[1]+"-"+m[2]+"-or-later", false
	} else {
		e.License = m[1] + "-" + m[2] + "-only"
	}
}
