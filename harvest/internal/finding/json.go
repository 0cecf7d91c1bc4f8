package finding

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ogptoolbox/federation/harvest/internal/jsonpos"
)

// InJSON locates the findings of a JSON document's entries: a finding's
// key is a path of package jsonpos ("[12].l", "releases[3].contact.email")
// and its place is that of the key in data; a key the document does not
// have (a required key that is missing) is placed at its entry, where.
// data must be valid JSON. It is walked once, at the first finding
// located: a source whose entries are all accepted is never walked.
func InJSON(data []byte) Locator {
	var pos map[string]int
	var lines *jsonpos.Locator
	return func(where, key string) (line, column int32) {
		if pos == nil {
			pos, lines = jsonpos.Offsets(data), jsonpos.NewLocator(data)
		}
		at, ok := pos[key]
		if !ok {
			at = pos[where]
		}
		return lines.LineColumn(at)
	}
}

// Text reads the decoded JSON value v of the source's key as a string,
// trimmed. A missing key or null is ""; a value of another kind is a fault
// of key ("is a number, not a string"), and reads as "".
func (e *Entry) Text(key string, v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	default:
		e.Fault(key, "is %s, not a string", DescribeValue(v))
		return ""
	}
}

// DescribeJSON names the kind of a JSON value, for findings ("is an
// array, not a string"): as DescribeValue, or "not JSON".
func DescribeJSON(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "not JSON"
	}
	return DescribeValue(v)
}

// DescribeValue names the kind of a decoded JSON value, for findings:
// "null", "a string", "a number", "a boolean", "an array", "an object".
func DescribeValue(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}
