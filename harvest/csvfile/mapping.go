package csvfile

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

// A Mapping says which column of the file holds each catalog field: it
// maps a field path (see Fields) to a column name, as the header row
// spells it. It is a plain map so that a configuration file can give it as
// one:
//
//	mapping:
//	  id: Identifiant
//	  display_name: Nom
//	  descriptions.fr.short_description: Description courte
//	  license: Licence
//
// A column may serve several fields; a field has one column. The mapping
// must give display_name, and the short or long description in at least
// one language.
type Mapping map[string]string

// simpleFields are the field paths that take one column each, besides the
// per-language description fields.
var simpleFields = []string{
	"id",
	"display_name",
	"repository_url",
	"landing_url",
	"logo_url",
	"license",
	"development_status",
	"software_type",
	"software_version",
	"release_date",
	"categories",
	"platforms",
	"available_languages",
	"standards",
	"used_by",
	"publisher.name",
	"publisher.uri",
	"maintenance.type",
}

// descriptionFields are the fields of a description, in
// descriptions.LANG.<field>.
var descriptionFields = []string{"short_description", "long_description", "features", "documentation_url"}

// Fields returns the field paths a Mapping can use, in the order of the
// catalog's Tool. "id" is the column of the rows' source ids, not a field
// of the tool; in descriptions.LANG.*, LANG is a BCP 47 language tag
// ("fr", "en", "pt-BR").
func Fields() []string {
	out := slices.Clone(simpleFields)
	for _, f := range descriptionFields {
		out = append(out, "descriptions.LANG."+f)
	}
	return out
}

// field is a checked field path of a Mapping.
type field struct {
	path string // as the catalog names it, with the language tag canonical ("descriptions.pt-BR.features")
	lang string // the language of a description field, else ""
	name string // the field of a description ("features"), else the path
}

// parseField checks a field path of a Mapping.
func parseField(path string) (field, error) {
	if slices.Contains(simpleFields, path) {
		return field{path: path, name: path}, nil
	}
	rest, ok := strings.CutPrefix(path, "descriptions.")
	if !ok {
		return field{}, fmt.Errorf("%q is not a field a column can give", path)
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 || !slices.Contains(descriptionFields, rest[i+1:]) {
		return field{}, fmt.Errorf("%q is not a field a column can give: a description field is descriptions.LANG.%s", path, strings.Join(descriptionFields, ", descriptions.LANG."))
	}
	tag, err := language.Parse(rest[:i])
	if err != nil || rest[:i] == "" {
		return field{}, fmt.Errorf("%q: %q is not a BCP 47 language tag (such as fr, en or pt-BR)", path, rest[:i])
	}
	lang := tag.String()
	return field{path: "descriptions." + lang + "." + rest[i+1:], lang: lang, name: rest[i+1:]}, nil
}

// ParseMapping reads a mapping written as on the command line: pairs
// field=Column separated by commas, such as
//
//	id=Identifiant,display_name=Nom,descriptions.fr.short_description=Description courte
//
// Column names are taken as written, spaces inside included (spaces around
// a name or a field are dropped). The list follows the CSV rules, so a pair
// whose column name holds a comma or a double quote is written in double
// quotes, a double quote inside doubled:
//
//	display_name=Nom,"descriptions.fr.short_description=Description, courte"
//
// Every fault is reported at once: a pair without "=", an unknown field, a
// field given twice.
func ParseMapping(spec string) (Mapping, error) {
	r := csv.NewReader(strings.NewReader(spec))
	r.FieldsPerRecord = -1
	m := Mapping{}
	canonical := map[string]string{} // checked field path → the field as written
	var errs []error
	for {
		pairs, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("mapping: %w", err)
		}
		for _, pair := range pairs {
			if strings.TrimSpace(pair) == "" {
				continue // a stray comma
			}
			path, column, ok := strings.Cut(pair, "=")
			path, column = strings.TrimSpace(path), strings.TrimSpace(column)
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%q is not of the form field=Column", pair))
				continue
			case column == "":
				errs = append(errs, fmt.Errorf("%q: the column name is empty", pair))
				continue
			}
			f, err := parseField(path)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if first, dup := canonical[f.path]; dup {
				errs = append(errs, fmt.Errorf("%q is given twice (as %s=%s and %s=%s)", f.path, first, m[first], path, column))
				continue
			}
			canonical[f.path] = path
			m[path] = column
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("mapping: %w", errors.Join(errs...))
	}
	return m, nil
}

// column is a mapped field resolved against the header.
type column struct {
	field
	name  string // the column's name
	index int    // its index in the rows
}

// resolve checks m against the header row and returns where each field is,
// sorted by field path. Every fault is reported at once: unknown field
// paths, columns the header does not have, a column the header has twice,
// a mapping without a name or a description.
func (m Mapping) resolve(header []string) ([]column, error) {
	index := map[string]int{}
	twice := map[string]bool{}
	for i, h := range header {
		if _, dup := index[h]; dup {
			twice[h] = true
		}
		index[h] = i
	}
	paths := make([]string, 0, len(m))
	for p := range m {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var (
		cols             []column
		unknown, missing []string
		errs             []error
		seen             = map[string]string{}
		described        bool
	)
	for _, p := range paths {
		name := strings.TrimSpace(m[p])
		f, err := parseField(strings.TrimSpace(p))
		if err != nil {
			unknown = append(unknown, p)
			errs = append(errs, err)
			continue
		}
		if first, dup := seen[f.path]; dup {
			errs = append(errs, fmt.Errorf("%q is given twice (as %s and %s)", f.path, first, p))
			continue
		}
		seen[f.path] = p
		i, ok := index[name]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("%q (for %s)", name, p))
			continue
		case twice[name]:
			errs = append(errs, fmt.Errorf("the header has two columns %q (for %s): which one is meant is not clear", name, p))
			continue
		}
		if f.name == "short_description" || f.name == "long_description" {
			described = true
		}
		cols = append(cols, column{field: f, name: name, index: i})
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("the header has no column %s; its columns are %s", strings.Join(missing, ", "), quoteAll(header)))
	}
	if len(unknown) > 0 {
		errs = append(errs, fmt.Errorf("the fields a column can give are %s", strings.Join(Fields(), ", ")))
	}
	if _, ok := seen["display_name"]; !ok {
		errs = append(errs, errors.New("display_name has no column: every tool needs a name"))
	}
	if !described && len(unknown) == 0 {
		errs = append(errs, errors.New("no column gives a description (descriptions.LANG.short_description or long_description): every tool needs one"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cols, nil
}

// quoteAll quotes a list of names for a message.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
