// Package spdx parses and validates SPDX license expressions such as
// "Apache-2.0 WITH LLVM-exception OR MIT", following the grammar of annex D
// of the SPDX specification v2.3.
//
// ogpnode, a federation node for open-government tool catalogs, uses it in
// the input validation of the tools it stores and in the harvesters that read
// the legal.license field of publiccode.yml files. Parse checks the syntax
// only; Validate also checks every identifier against the SPDX License List,
// which is compiled in (list_gen.go, made by go generate from the data named
// in internal/gen), so the package never reads files or the network.
//
// Identifiers are matched case-insensitively, as the specification asks;
// operators (AND, OR, WITH) are case-sensitive and a lowercase one is
// rejected with a message naming the uppercase form.
package spdx

//go:generate sh -c "go mod download buf.build/go/spdx && go run ./internal/gen -licenses \"$(go list -m -f '{{.Dir}}' buf.build/go/spdx)/spdx.gen.go\" -exceptions internal/gen/data/exceptions.json -o list_gen.go"

import (
	"errors"
	"fmt"
	"strings"
)

// listEntry is one identifier of the SPDX License List; list_gen.go holds
// them.
type listEntry struct {
	id          string // canonical casing
	deprecated  bool
	osiApproved bool
}

// Validate parses expr and checks that every license identifier in it is on
// the SPDX License List, deprecated ones included, and every exception
// identifier is on the SPDX list of license exceptions. LicenseRef- and
// DocumentRef- references are always accepted. Identifiers match
// case-insensitively.
//
// A syntax error is returned as a *SyntaxError; unknown identifiers are all
// reported, joined into one error.
func Validate(expr string) error {
	e, err := Parse(expr)
	if err != nil {
		return err
	}
	var errs []error
	seen := map[string]bool{}
	report := func(err error) {
		if !seen[err.Error()] {
			seen[err.Error()] = true
			errs = append(errs, err)
		}
	}
	e.walk(func(n *Expression) {
		if n.License != "" && !isRef(n.License) {
			if _, ok := lookupLicense(strings.ToLower(n.License)); !ok {
				if ex, ok := lookupException(strings.ToLower(n.License)); ok {
					report(fmt.Errorf("spdx: %q is an SPDX license exception, not a license: it can only follow a license and WITH, as in \"<license> WITH %s\"", ex.id, ex.id))
				} else {
					report(fmt.Errorf("spdx: unknown SPDX license identifier %q", n.License))
				}
			}
		}
		if n.Exception != "" {
			if _, ok := lookupException(strings.ToLower(n.Exception)); !ok {
				if lic, ok := lookupLicense(strings.ToLower(n.Exception)); ok {
					report(fmt.Errorf("spdx: %q after WITH is an SPDX license, not a license exception: combine licenses with AND or OR", lic.id))
				} else {
					report(fmt.Errorf("spdx: unknown SPDX license exception identifier %q", n.Exception))
				}
			}
		}
	})
	return errors.Join(errs...)
}

// IsDeprecated reports whether id is a deprecated identifier of the SPDX
// License List, either a license (such as "GPL-3.0" or "GPL-2.0+") or a
// license exception (such as "Nokia-Qt-exception-1.1"). It matches
// case-insensitively and is false for identifiers not on the list.
func IsDeprecated(id string) bool {
	lower := strings.ToLower(id)
	if e, ok := lookupLicense(lower); ok {
		return e.deprecated
	}
	e, ok := lookupException(lower)
	return ok && e.deprecated
}

// IsException reports whether id is on the SPDX list of license
// exceptions, deprecated ones included. It matches case-insensitively.
func IsException(id string) bool {
	_, ok := lookupException(strings.ToLower(id))
	return ok
}

// IsOSIApproved reports whether id is a license of the SPDX License List
// marked as approved by the Open Source Initiative. It matches
// case-insensitively and is false for exceptions and unknown identifiers.
func IsOSIApproved(id string) bool {
	e, ok := lookupLicense(strings.ToLower(id))
	return ok && e.osiApproved
}

// canonicalLicense returns the casing of id on the SPDX License List, or id
// itself when it is not on the list.
func canonicalLicense(id string) string {
	if e, ok := lookupLicense(strings.ToLower(id)); ok {
		return e.id
	}
	return id
}

// canonicalException returns the casing of id on the SPDX list of license
// exceptions, or id itself when it is not on the list.
func canonicalException(id string) string {
	if e, ok := lookupException(strings.ToLower(id)); ok {
		return e.id
	}
	return id
}
