package web

import (
	"regexp"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// A fieldset is a group of a form's fields under a legend.
type fieldset struct {
	Legend string
	Lang   string // the language of the group's text, for a description
	Fields []field
	// Optional, when set, folds the group under this summary: the empty
	// block that adds a language is there for who needs it.
	Optional string
}

// A field is one input of a form, as the "field" template renders it:
// always with its label, its hint and its errors tied to it
// (aria-describedby), and aria-invalid when it has errors.
type field struct {
	ID       string // the input's id and name
	Kind     string // text, url, textarea, select, checkboxes, checkbox
	Label    string
	Hint     string
	Value    string
	Checked  bool // a checkbox's
	Required bool
	Options  []option // a select's or checkboxes'
	Errors   []string
	Rows     int    // a textarea's
	Lang     string // the language of the value, when known
	Columns  bool   // checkboxes shown in columns (long lists)

	// The words the template puts beside the field, in the page's
	// language (labelFields sets them).
	ErrorLabel, RequiredLabel string
}

// DescribedBy are the ids of the field's hint and errors, for
// aria-describedby.
func (f field) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if len(f.Errors) > 0 {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// labelFields gives every field the page's words for "error" and
// "required".
func labelFields(p *page, sets []fieldset) []fieldset {
	for i := range sets {
		for j := range sets[i].Fields {
			sets[i].Fields[j].ErrorLabel, sets[i].Fields[j].RequiredLabel = p.T("form.error"), p.T("form.required")
		}
	}
	return sets
}

// inputs makes the fields of a form on page p, errs beside their inputs:
// in(kind, id, labelKey, hintKey, value) is an input with its label, its
// hint when hintKey is set, its value and its errors; a textarea is four
// rows high.
func inputs(p *page, errs *formErrors) func(kind, id, labelKey, hintKey, value string) field {
	return func(kind, id, labelKey, hintKey, value string) field {
		fl := field{ID: id, Kind: kind, Label: p.T(labelKey), Value: value, Errors: errs.of(id)}
		if hintKey != "" {
			fl.Hint = p.T(hintKey)
		}
		if kind == "textarea" {
			fl.Rows = 4
		}
		return fl
	}
}

// enumOptions are a select's options for an enum of the API, given by its
// names: none chosen first, then every value but the unspecified one,
// named in the page's language.
func enumOptions(p *page, current string, names map[int32]string) []option {
	out := []option{{Value: "", Label: "—", Selected: current == ""}}
	for i := int32(1); i < int32(len(names)); i++ {
		out = append(out, option{Value: names[i], Label: p.T("enum." + names[i]), Selected: names[i] == current})
	}
	return out
}

type option struct {
	Value, Label string
	Selected     bool
}

// formErrors are a form's errors by input id, and all of them in order for
// the summary at the top of the form, each linked to its input.
type formErrors struct {
	byInput map[string][]string
	Summary []summaryItem
}

type summaryItem struct {
	Input   string // the input's id; "" when no input matches the field
	Field   string // the input's label, or the API's field path
	Message string
	// Lang is the language of a message the API gave ("en"), where the
	// page's own are the reader's.
	Lang string
}

func (e *formErrors) add(input, field, msg string) {
	if e.byInput == nil {
		e.byInput = map[string][]string{}
	}
	if input != "" {
		e.byInput[input] = append(e.byInput[input], msg)
	}
	e.Summary = append(e.Summary, summaryItem{Input: input, Field: field, Message: msg})
}

// addAPI adds a message the API gave of field, in lang (English, or the
// page's language when the API had it there), beside input and in the
// summary, there named by label.
func (e *formErrors) addAPI(input, label, msg, lang string) {
	e.add(input, label, msg)
	e.Summary[len(e.Summary)-1].Lang = lang
}

func (e *formErrors) of(input string) []string { return e.byInput[input] }

// Any reports whether there is an error.
func (e *formErrors) Any() bool { return len(e.Summary) > 0 }

// violations are the field violations of an API error (INVALID_ARGUMENT
// with a google.rpc.BadRequest), nil when it has none.
func violations(err error) []*errdetails.BadRequest_FieldViolation {
	var out []*errdetails.BadRequest_FieldViolation
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			out = append(out, br.GetFieldViolations()...)
		}
	}
	return out
}

// listIndex matches the index of a repeated field in a field path
// ("categories[2]"): an input holds the whole list.
func listIndex() *regexp.Regexp { return regexp.MustCompile(`\[\d+\]`) }

// lines splits a textarea's value into its non-empty lines, trimmed.
func lines(s string) []string { return splitTrimmed(s, "\n") }

// items splits a list typed on one line, separated by commas.
func items(s string) []string { return splitTrimmed(s, ",") }

// sameText reports whether an input's posted text is the text the form
// showed (whose line ends, stored before they were made LF, may be CR LF
// too).
func sameText(posted, shown string) bool { return textareaText(posted) == textareaText(shown) }

// keptInput is the value of a one-line input: the edited version's, was,
// if the posted text is what the form showed of it, else the posted text.
func keptInput(posted, shown, was string) string {
	if inputShows(posted, shown) {
		return was
	}
	return posted
}

// keptTrimmed is keptInput for an input read trimmed (a URL, a version):
// posted, trimmed, is what the form showed of shown when it equals that
// text trimmed.
func keptTrimmed(posted, shown, was string) string {
	return keptInput(posted, strings.TrimSpace(shownInput(shown)), was)
}

// inputShows reports whether a one-line input's posted text is what the
// form showed of shown: browsers drop an input's newlines.
func inputShows(posted, shown string) bool { return posted == shownInput(shown) }

// shownInput is what a one-line input showing s gives back unchanged:
// s without its line ends.
func shownInput(s string) string { return strings.NewReplacer("\r", "", "\n", "").Replace(s) }

// textareaText is a textarea's text with its line ends as the records
// keep them, LF: browsers send them as CR LF, and HTML reads a lone CR as
// a line end too.
func textareaText(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// splitTrimmed splits s at sep into its non-empty parts, trimmed.
func splitTrimmed(s, sep string) []string {
	var out []string
	for _, it := range strings.Split(s, sep) {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}
