// Package csvfile reads CSV files, such as a spreadsheet of tools that an
// administration keeps, for the harvester: every row below the header
// becomes a harvest entry, through a Mapping that says which column holds
// which catalog field. Package harvest runs it and imports what it returns
// into the node's catalog; this package reads bytes and never writes
// anything.
//
// The file is read as spreadsheets write it:
//   - the first row is the header, which names the columns;
//   - the delimiter is ";" when the header line has more semicolons than
//     commas (as spreadsheets write CSV in French and other locales whose
//     decimal separator is a comma), else ",";
//   - fields follow the CSV quoting rules (RFC 4180): a field that holds the
//     delimiter, a double quote or a line break is in double quotes;
//   - a UTF-8 byte order mark is dropped; a file with a UTF-16 byte order
//     mark is read as UTF-16 ("Unicode" exports); a file that is not UTF-8
//     and has no UTF-8 character at all is read as Windows-1252, the
//     encoding in which spreadsheets on Windows save CSV;
//   - lines end in a line feed, or a carriage return and a line feed, or,
//     in a file without line feeds, a carriage return ("CSV (Macintosh)");
//   - rows whose fields are all blank are skipped.
//
// Cell values are trimmed. A field that takes several values (categories,
// platforms, available_languages, standards, used_by, and
// descriptions.LANG.features) has them in one cell, separated by ";" or
// "|" (in a ";"-delimited file, such a cell is in double quotes). Values of
// the publiccode.yml vocabularies (categories, development_status,
// software_type, maintenance.type, platforms) are matched without case,
// spaces standing for hyphens; licenses and language tags are given their
// canonical spelling. A description longer than the catalog's
// 150-character short description is cut at a word boundary, with "…",
// and kept whole as the long description when no column gives one.
//
// Each row's source id is its cell in the "id" column. Without an id
// column it is the tool's display name: then renaming a tool in the file
// makes it another tool for the harvester (the old one is deleted once the
// file is read completely).
//
// A row that cannot become a valid tool is rejected as "row N", N counted
// as a spreadsheet shows it (the header is row 1), with each fault under
// its column's name and the line and column (in characters) of the cell
// in the file.
package csvfile

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest/internal/finding"
	"github.com/ogptoolbox/federation/harvest/internal/textfit"
	"github.com/ogptoolbox/federation/spdx"
	"github.com/ogptoolbox/federation/vocabulary"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/language"
)

// Parse reads a CSV file with a header row through the mapping m. It
// returns an entry for every row that maps to a valid tool, and a rejected
// entry, with its faults, for every other row. It returns an error, and
// nothing else, when the file cannot be read as a whole (it is empty, its
// CSV is broken, such as an unclosed quote) or when m does not fit its
// header (unknown field paths, columns the header lacks), or when ctx ends
// before every row is read: then no row was read.
func Parse(ctx context.Context, data []byte, m Mapping) ([]*catalogv1.HarvestEntry, []*catalogv1.RejectedEntry, error) {
	data, err := decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("csv: %w", err)
	}
	rows, err := readRows(data)
	if err != nil {
		return nil, nil, fmt.Errorf("csv: %w", err)
	}
	header := make([]string, len(rows[0].cells))
	for i, h := range rows[0].cells {
		header[i] = strings.TrimSpace(h)
	}
	cols, err := m.resolve(header)
	if err != nil {
		return nil, nil, fmt.Errorf("csv: the mapping does not fit the header: %w", err)
	}
	var b finding.Batch
	noDescription := missingDescription(cols)
	for _, row := range rows[1:] {
		if blank(row.cells) {
			continue
		}
		if err := b.Stopped(ctx); err != nil {
			return nil, nil, fmt.Errorf("csv: %w", err)
		}
		r := &rowReader{row: row, header: header, cols: cols}
		// A finding of the whole row has the key "": no column.
		r.Where, r.Whole, r.NoDescription = fmt.Sprintf("row %d", row.number), "", noDescription
		tool := r.read()
		if first, dup := b.Claim(&r.Entry); dup {
			r.Fault(r.idColumn, "%q is also the id of %s: each row must have its own", r.ID, first)
		}
		r.Check(tool)
		b.Add(&r.Entry, tool, r.cell)
	}
	return b.Entries, b.Rejected, nil
}

// missingDescription is the finding of a row that gives no description:
// it names the columns that would have given one.
func missingDescription(cols []column) string {
	var names []string
	for _, c := range cols {
		if c.field.name == "short_description" || c.field.name == "long_description" {
			names = append(names, fmt.Sprintf("%q", c.name))
		}
	}
	verb := "are"
	if len(names) == 1 {
		verb = "is"
	}
	return fmt.Sprintf("has no description: %s %s empty", strings.Join(names, " and "), verb)
}

// decode returns data as UTF-8 without a byte order mark (see the package
// documentation for the encodings read), its lines ending in a line feed
// when none did (see bareCarriageReturns).
func decode(data []byte) ([]byte, error) {
	data, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	return bareCarriageReturns(data), nil
}

// decodeText returns data as UTF-8 without a byte order mark.
func decodeText(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		// UTF-16, as spreadsheets export "Unicode text" and "CSV UTF-16".
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if utf8.Valid(data) || hasUTF8Character(data) {
		// UTF-8, perhaps with a stray invalid byte: the rows that hold
		// one are rejected, rather than every accent of the file read
		// wrong.
		return data, nil
	}
	return charmap.Windows1252.NewDecoder().Bytes(data)
}

// bareCarriageReturns is data with its carriage returns made line feeds
// when no row ends in a line feed: its rows end in a bare carriage return,
// as "CSV (Macintosh)" exports write them, which encoding/csv does not take
// for line ends, and the whole file was read as one header row, giving no
// entry, no rejected one and no error. A line break typed in a cell, inside
// quotes, may be a line feed there; a carriage return in a cell is a line
// break too. One byte for one, so that positions stay. A file with a line
// feed outside quotes is left as it is: a carriage return of its own is
// part of a cell.
func bareCarriageReturns(data []byte) []byte {
	if bytes.IndexByte(data, '\r') < 0 {
		return data
	}
	quoted := false
	for _, c := range data {
		switch {
		case c == '"':
			quoted = !quoted
		case c == '\n' && !quoted:
			return data
		}
	}
	return bytes.ReplaceAll(data, []byte{'\r'}, []byte{'\n'})
}

// hasUTF8Character reports whether data holds a character encoded in more
// than one byte of valid UTF-8.
func hasUTF8Character(data []byte) bool {
	for len(data) > 0 {
		r, n := utf8.DecodeRune(data)
		if n > 1 && r != utf8.RuneError {
			return true
		}
		data = data[n:]
	}
	return false
}

// row is a record of the file.
type row struct {
	number int      // as a spreadsheet counts rows: the header is row 1
	cells  []string // its fields, as read
	pos    [][2]int // the line and column (in characters) where each field starts
}

// readRows reads every record of the file, the header first.
func readRows(data []byte) ([]row, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = delimiter(data)
	r.FieldsPerRecord = -1 // a row with too few fields is that row's fault
	r.ReuseRecord = true   // the rows kept are copied: blank ones cost nothing
	lines := lineStarts(data)
	var rows []row
	number := 0
	for {
		cells, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if pe.StartLine != pe.Line { // a quoted field ran on: say where it began
					return nil, fmt.Errorf("line %d, column %d, in the row that starts on line %d: %v", pe.Line, pe.Column, pe.StartLine, pe.Err)
				}
				return nil, fmt.Errorf("line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
			}
			return nil, err
		}
		number++
		if number > 1 && blank(cells) {
			continue // skipped, not kept: a file of blank rows took a hundred times its size
		}
		rw := row{number: number, cells: slices.Clone(cells), pos: make([][2]int, len(cells))}
		// A row's fields start further on in turn: each field's column
		// in characters is counted from the one before on its line, not
		// from the line's start (200 KB of one row took 10 s).
		prevLine, prevByte, prevChar := 0, 0, 0
		for i := range cells {
			line, col := r.FieldPos(i)
			var char int
			if line == prevLine && col >= prevByte && line >= 1 && line <= len(lines) {
				start := lines[line-1]
				char = prevChar + utf8.RuneCount(data[min(start+prevByte-1, len(data)):min(start+col-1, len(data))])
			} else {
				char = characterColumn(data, lines, line, col)
			}
			rw.pos[i] = [2]int{line, char}
			prevLine, prevByte, prevChar = line, col, char
		}
		rows = append(rows, rw)
	}
	if len(rows) == 0 {
		return nil, errors.New("the file is empty: the first row must name the columns")
	}
	return rows, nil
}

// lineStarts returns the byte offset where each line of data starts.
func lineStarts(data []byte) []int {
	starts := make([]int, 1, bytes.Count(data, []byte{'\n'})+1) // once: a file of short lines grew it many times over
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// characterColumn turns the byte column that encoding/csv gives (from 1)
// into a column in characters, as the JSON readers count them.
func characterColumn(data []byte, lines []int, line, col int) int {
	if line < 1 || line > len(lines) {
		return col
	}
	start := lines[line-1]
	end := min(start+col-1, len(data))
	if end < start {
		return col
	}
	return utf8.RuneCount(data[start:end]) + 1
}

// delimiter is ";" when the header line has more semicolons than commas
// outside double quotes, else ",".
func delimiter(data []byte) rune {
	semicolons, commas := 0, 0
	quoted := false
	for _, c := range data {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\n':
			return pick(semicolons, commas)
		case c == ';':
			semicolons++
		case c == ',':
			commas++
		}
	}
	return pick(semicolons, commas)
}

func pick(semicolons, commas int) rune {
	if semicolons > commas {
		return ';'
	}
	return ','
}

// blank reports whether every cell is blank: the empty rows spreadsheets
// leave at the end of a sheet.
func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// rowReader reads one row into a tool. Its finding.Entry takes the
// columns' names, "" for the whole row.
type rowReader struct {
	finding.Entry
	row      row
	header   []string
	cols     []column // the mapped columns
	idColumn string   // the column the source id came from
}

// cell locates the finding of the named column (of the whole row when
// name is ""): the line and column of its cell in the file.
func (r *rowReader) cell(_, name string) (line, column int32) {
	at := [2]int{}
	if len(r.row.pos) > 0 {
		at = r.row.pos[0]
	}
	for i, h := range r.header {
		if h == name && i < len(r.row.pos) {
			at = r.row.pos[i]
			break
		}
	}
	return int32(at[0]), int32(at[1])
}

// readID reads the row's source id: its id cell, else its display name.
// It is read even from a row that is rejected, so that the harvester knows
// the row is still in the file and keeps its tool.
func (r *rowReader) readID() {
	var byName column
	for _, c := range r.cols {
		switch c.path {
		case "id":
			if c.index < len(r.row.cells) {
				r.ID = strings.TrimSpace(r.row.cells[c.index])
			}
			r.idColumn = c.name
			return
		case "display_name":
			byName = c
		}
	}
	if byName.index < len(r.row.cells) {
		r.ID = strings.TrimSpace(r.row.cells[byName.index])
	}
	r.idColumn = byName.name
}

// checkID rejects a row whose id holds a byte that is not UTF-8 (a file
// of mixed encodings), and forgets the id: the row's tool cannot be told
// (its id was perhaps read right before), and a rejected row without an
// id keeps every tool of the source from deletion.
func (r *rowReader) checkID() {
	if !utf8.ValidString(r.ID) {
		r.Fault(r.idColumn, "holds a byte that is not UTF-8: is the file's encoding mixed?")
		r.ID = ""
	}
}

// read maps the row to a tool through the resolved columns; nil when the
// row cannot be read at all.
func (r *rowReader) read() *catalogv1.Tool {
	cells := r.row.cells
	r.readID()
	r.checkID()
	if len(cells) < len(r.header) {
		r.Fault("", "has %d fields, but the header has %d: a delimiter or a quote is missing", len(cells), len(r.header))
		return nil
	}
	for _, c := range cells[len(r.header):] {
		if strings.TrimSpace(c) != "" {
			r.Fault("", "has %d fields, but the header has %d: a delimiter is too many, or a value with the delimiter is not quoted", len(cells), len(r.header))
			return nil
		}
	}
	t := &catalogv1.Tool{}
	descriptions := map[string]*description{}
	for _, c := range r.cols {
		value := strings.TrimSpace(cells[c.index])
		if c.lang != "" {
			d := descriptions[c.lang]
			if d == nil {
				d = &description{}
				descriptions[c.lang] = d
			}
			d.set(c, value)
			continue
		}
		r.From(c.path, c.name)
		switch c.path {
		case "id":
			if value == "" {
				r.Fault(c.name, "is empty: every row needs an id")
			}
		case "display_name":
			t.DisplayName = value
		case "repository_url":
			t.RepositoryUrl = value
		case "landing_url":
			t.LandingUrl = value
		case "logo_url":
			t.LogoUrl = value
		case "license":
			t.License = canonicalLicense(value)
		case "development_status":
			t.DevelopmentStatus = match(value, vocabulary.DevelopmentStatuses())
		case "software_type":
			t.SoftwareType = match(value, vocabulary.SoftwareTypes())
		case "software_version":
			t.SoftwareVersion = value
		case "release_date":
			t.ReleaseDate = value
			if _, err := time.Parse(time.DateOnly, value); err != nil && value != "" {
				r.Fault(c.name, "%q is not a date of the form YYYY-MM-DD", value)
			}
		case "categories":
			t.Categories = matchAll(split(value), vocabulary.Categories())
		case "platforms":
			t.Platforms = lowerAll(split(value))
		case "available_languages":
			t.AvailableLanguages = languageTags(split(value))
		case "standards":
			t.Standards = split(value)
		case "used_by":
			t.UsedBy = split(value)
		case "publisher.name", "publisher.uri":
			if value == "" {
				continue
			}
			if t.Publisher == nil {
				t.Publisher = &catalogv1.Publisher{}
			}
			if c.path == "publisher.name" {
				t.Publisher.Name = value
			} else {
				t.Publisher.Uri = value
			}
		case "maintenance.type":
			if value != "" {
				t.Maintenance = &catalogv1.Maintenance{Type: match(value, vocabulary.MaintenanceTypes())}
			}
		}
	}
	for lang, d := range descriptions {
		if out := d.tool(lang, &r.Entry); out != nil {
			if t.Descriptions == nil {
				t.Descriptions = map[string]*catalogv1.Description{}
			}
			t.Descriptions[lang] = out
		}
	}
	return t
}

// description gathers the columns of one language's description.
type description struct {
	short, long, features, doc  *column
	shortText, longText, docURL string
	featureList                 []string
}

func (d *description) set(c column, value string) {
	switch c.field.name {
	case "short_description":
		d.short, d.shortText = &c, value
	case "long_description":
		d.long, d.longText = &c, value
	case "features":
		d.features, d.featureList = &c, split(value)
	case "documentation_url":
		d.doc, d.docURL = &c, value
	}
}

// tool returns the catalog's description in lang, or nil when the row
// leaves all its cells empty; it records in e which column gave each
// field. A short description too long for the catalog is cut, and kept
// whole as the long description when the row has none; a row with only a
// long description has its first line as the short one.
func (d *description) tool(lang string, e *finding.Entry) *catalogv1.Description {
	if d.shortText == "" && d.longText == "" && len(d.featureList) == 0 && d.docURL == "" {
		return nil
	}
	p := "descriptions." + lang
	out := &catalogv1.Description{Features: d.featureList, DocumentationUrl: d.docURL}
	if d.shortText != "" {
		out.ShortDescription, out.LongDescription = textfit.Describe(d.shortText)
		e.From(p+".short_description", d.short.name)
		e.From(p+".long_description", d.short.name)
	} else if d.longText != "" {
		out.ShortDescription, _ = textfit.Describe(d.longText)
		e.From(p+".short_description", d.long.name)
	} else if d.short != nil {
		e.From(p+".short_description", d.short.name)
	} else {
		e.From(p+".short_description", d.long.name)
	}
	if d.longText != "" {
		out.LongDescription = textfit.Shorten(d.longText, textfit.MaxLongDescription)
		e.From(p+".long_description", d.long.name)
	}
	if d.features != nil {
		e.From(p+".features", d.features.name)
	}
	if d.doc != nil {
		e.From(p+".documentation_url", d.doc.name)
	}
	return out
}

// split reads the values of a cell that takes several: separated by ";"
// or "|", trimmed, each once, the empty ones left out.
func split(cell string) []string {
	var out []string
	for _, v := range strings.FieldsFunc(cell, func(r rune) bool { return r == ';' || r == '|' }) {
		if v = strings.TrimSpace(v); v != "" && !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// match returns the value of the vocabulary that s spells, compared
// without case and with spaces as hyphens ("Standalone/Web" is
// "standalone/web"); s itself when there is none, for the catalog's
// checks to reject.
func match(s string, vocabulary []string) string {
	key := strings.Join(strings.Fields(s), "-")
	for _, v := range vocabulary {
		if strings.EqualFold(v, key) {
			return v
		}
	}
	return s
}

// matchAll matches every value of list, each once.
func matchAll(list, vocabulary []string) []string {
	var out []string
	for _, s := range list {
		if m := match(s, vocabulary); !contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// lowerAll lowercases the platforms, which the catalog spells in lower
// case, each once.
func lowerAll(list []string) []string {
	var out []string
	for _, s := range list {
		if l := strings.ToLower(s); !contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// languageTags gives the tags their canonical spelling ("pt-br" is
// "pt-BR"); a value that is no tag is kept for the catalog's checks to
// reject.
func languageTags(list []string) []string {
	var out []string
	for _, s := range list {
		if tag, err := language.Parse(s); err == nil {
			s = tag.String()
		}
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// canonicalLicense gives an SPDX expression its canonical spelling ("mit
// or apache-2.0" stays as it is, its lowercase operators being an error;
// "mit OR apache-2.0" is "MIT OR Apache-2.0"); anything else is kept for
// the catalog's checks to reject.
func canonicalLicense(s string) string {
	if s == "" {
		return ""
	}
	e, err := spdx.Parse(s)
	if err != nil {
		return s
	}
	return e.String()
}
