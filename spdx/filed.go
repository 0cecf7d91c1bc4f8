package spdx

import (
	"strings"
)

// Filed returns the licenses e names as a catalog files them (its license
// facet and filter), each once, in the order they appear, so that one
// license written in the several ways catalogs write it is one:
//   - a deprecated GNU identifier is the one that replaced it: GPL-3.0 is
//     GPL-3.0-only, GPL-3.0+ (and GPL-3.0-only+) GPL-3.0-or-later, and so
//     for AGPL, LGPL and GFDL;
//   - a deprecated GPL with an exception is the GPL it names
//     (GPL-2.0-with-classpath-exception is GPL-2.0-only), as
//     GPL-2.0-only WITH Classpath-exception-2.0 is;
//   - a reference (LicenseRef-, DocumentRef-) is in lowercase after its
//     prefixes, as identifiers are matched whatever their case;
//   - other identifiers are in the casing of the SPDX list when on it,
//     without "+" (no identifier says "or later" of them) or exception.
func (e *Expression) Filed() []string {
	return e.leaves(func(n *Expression) string { return filed(n.License, n.OrLater) })
}

// filed is the license id (orLater: written with "+") as Filed gives it.
func filed(id string, orLater bool) string {
	if ref, ok := strings.CutPrefix(id, documentRefPrefix); ok {
		doc, lic, _ := strings.Cut(ref, ":")
		return documentRefPrefix + strings.ToLower(doc) + ":" + filed(lic, false)
	}
	if ref, ok := strings.CutPrefix(id, licenseRefPrefix); ok {
		return licenseRefPrefix + strings.ToLower(ref)
	}
	if base, ok := gplWithException[strings.ToLower(id)]; ok {
		id = base // GPL-2.0-only, its "+" as of any -only below
	}
	base, deprecated := gnuVersion(id)
	switch {
	case orLater && (deprecated || strings.HasSuffix(id, "-only")):
		// GPL-3.0+, GPL-3.0-only+, GFDL-1.3-invariants-only+: this
		// version or any later, whatever the list calls the family.
		if later, ok := lookupLicense(strings.ToLower(base + "-or-later")); ok {
			return later.id
		}
	case deprecated:
		if only, ok := lookupLicense(strings.ToLower(base + "-only")); ok {
			return only.id
		}
	}
	return id
}

// gnuVersion is id without "-only" and whether id is a deprecated GNU
// identifier, one of a family and version alone (GPL-3.0, LGPL-2.1).
func gnuVersion(id string) (base string, deprecated bool) {
	if base, ok := strings.CutSuffix(id, "-only"); ok {
		return base, false
	}
	return id, isGNU(id)
}

// isGNU reports whether id is a GNU family and version: AGPL, GPL, LGPL or
// GFDL, a hyphen, and a version such as 2.1.
func isGNU(id string) bool {
	family, version, ok := strings.Cut(id, "-")
	if !ok {
		return false
	}
	switch family {
	case "AGPL", "GPL", "LGPL", "GFDL":
	default:
		return false
	}
	return len(version) == 3 && version[1] == '.' && isDigit(version[0]) && isDigit(version[2])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// gplWithException are the deprecated identifiers of a GPL with an
// exception, by their lowercase, and the license each names without it.
var gplWithException = map[string]string{
	"gpl-2.0-with-autoconf-exception":  "GPL-2.0-only",
	"gpl-2.0-with-bison-exception":     "GPL-2.0-only",
	"gpl-2.0-with-classpath-exception": "GPL-2.0-only",
	"gpl-2.0-with-font-exception":      "GPL-2.0-only",
	"gpl-2.0-with-gcc-exception":       "GPL-2.0-only",
	"gpl-3.0-with-autoconf-exception":  "GPL-3.0-only",
	"gpl-3.0-with-gcc-exception":       "GPL-3.0-only",
}

// GPLWithException is the license a deprecated identifier of a GPL with an
// exception names (GPL-2.0-only for GPL-2.0-with-classpath-exception, in
// any case), if id is one.
func GPLWithException(id string) (string, bool) {
	base, ok := gplWithException[strings.ToLower(id)]
	return base, ok
}
