package publiccode

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The reader works on a small tree of its own rather than on goccy's AST:
// aliases, merge keys and tags are resolved once, while it is built, so
// that the checks only ever see five kinds of node, each with the line and
// column the file gives it.

// kind is what a node holds.
type kind uint8

const (
	kindNull   kind = iota // an empty value or null, ~
	kindScalar             // a string, number or date, kept as the file writes it
	kindBool               // true or false (YAML 1.2: yes, no, on, off are strings)
	kindMap
	kindSeq
)

// pos is a place in the file, from 1; the zero pos means "unknown".
type pos struct{ line, col int }

// node is one value of the document.
type node struct {
	kind  kind
	text  string // the scalar's value; for a bool, as written
	pos   pos
	pairs []pair  // a mapping's entries, in file order
	items []*node // a sequence's items
}

// pair is one entry of a mapping.
type pair struct {
	key    string
	keyPos pos
	value  *node
}

// Limits that keep a hostile file from costing more than a real one.
const (
	// maxFileSize is far above any real publiccode.yml (a few kilobytes).
	maxFileSize = 1 << 20
	// maxDepth is far above the standard's deepest key (about 5 levels).
	maxDepth = 64
	// maxBrackets bounds the brackets and braces of a file, and maxPrefix
	// the column where its lines' text may begin (see tooDeep).
	maxBrackets = 4096
	maxPrefix   = 1000
	// extraNodes is how many nodes aliases may add beyond one per byte of
	// input (no file makes more nodes than bytes without aliases), so that
	// an alias bomb ("billion laughs") is cut short.
	extraNodes = 1024
)

// treeError is a fault of the YAML itself, at a place in the file.
type treeError struct {
	at  pos
	msg string
}

func (e *treeError) Error() string { return e.msg }

// builder turns goccy's AST into nodes.
type builder struct {
	anchors map[string]ast.Node
	budget  int // nodes that may still be made
}

// loadYAML parses data (UTF-8, without BOM) and returns its first
// document's root. A file with several documents is read as its first one,
// as the reference parser does; more reports whether there were others.
func loadYAML(data []byte) (root *node, more bool, err *treeError) {
	if at, why := tooDeep(data); why != "" {
		return nil, false, &treeError{at: at, msg: why}
	}
	file, perr := parser.ParseBytes(data, 0)
	if perr != nil {
		return nil, false, syntaxError(perr)
	}
	var body ast.Node
	docs := 0
	for _, d := range file.Docs {
		if d == nil || d.Body == nil || d.Body.Type() == ast.DirectiveType {
			// goccy gives a directive (%YAML 1.2) a document of its own.
			continue
		}
		if docs == 0 {
			body = d.Body
		}
		docs++
	}
	if body == nil {
		return nil, false, &treeError{msg: "the file is empty: it must be a YAML mapping of publiccode.yml keys"}
	}
	b := &builder{anchors: map[string]ast.Node{}, budget: len(data) + extraNodes}
	root, err = b.build(body, 0)
	return root, docs > 1, err
}

// tooDeep looks, before the parser, for the nesting that costs the parser
// most: brackets and braces, and sequences opened on one line ("- - - x",
// with tags or anchors between them or not), which nest a level for a few
// bytes; goccy keeps a path for each level, so that 40 KB of them took
// 600 MB to parse. Nesting by indentation costs more bytes a level: a
// line that begins past column maxPrefix (its indentation, dashes, tags
// and anchors) is refused, which bounds it, and build's check refuses
// what is left. It reads no quotes (to tell text from YAML as the parser
// does is the parser's work, and a guess would let through what it
// misread): it refuses a file whose brackets and braces open more than
// maxDepth deep, or more than maxBrackets in all, which bounds the
// parser's work whatever text holds them; no publiccode.yml comes near
// any of these.
func tooDeep(data []byte) (pos, string) {
	tooDeep := fmt.Sprintf("the file nests values more than %d levels deep", maxDepth)
	depth, opened, line, col := 0, 0, 1, 0
	prefix, dashes := true, 0 // in the indentation, dashes, tags and anchors that begin a line
	for i := 0; i < len(data); i++ {
		c := data[i]
		col++
		if c == '\n' {
			line, col, prefix, dashes = line+1, 0, true, 0
			continue
		}
		if prefix {
			if col > maxPrefix {
				return pos{line, col}, fmt.Sprintf("a line begins past column %d (its indentation, dashes and tags): the file nests values deeper than any publiccode.yml", maxPrefix)
			}
			switch {
			case c == ' ' || c == '\t':
				continue
			case (c == '-' || c == '?') && (i+1 == len(data) || data[i+1] == ' ' || data[i+1] == '\t'):
				if dashes++; dashes > maxDepth {
					return pos{line, col}, tooDeep
				}
				continue
			case c == '!' || c == '&': // a tag or an anchor: to the next blank
				for i+1 < len(data) && data[i+1] != ' ' && data[i+1] != '\t' && data[i+1] != '\n' {
					i++
					col++
				}
				continue
			}
			prefix = false
		}
		switch c {
		case '[', '{':
			if depth, opened = depth+1, opened+1; depth > maxDepth {
				return pos{line, col}, tooDeep
			} else if opened > maxBrackets {
				return pos{line, col}, fmt.Sprintf("the file opens more than %d brackets and braces, more than any publiccode.yml: it nests values too deep, or holds too many lists", maxBrackets)
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return pos{}, ""
}

// syntaxError turns a goccy parse error into a treeError with its place.
func syntaxError(err error) *treeError {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &treeError{msg: "the file is not valid YAML: " + ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.at = pos{tk.Position.Line, tk.Position.Column}
		}
		return e
	}
	return &treeError{msg: "the file is not valid YAML: " + err.Error()}
}

func tokenPos(tk *token.Token) pos {
	if tk == nil || tk.Position == nil {
		return pos{}
	}
	return pos{tk.Position.Line, tk.Position.Column}
}

func (b *builder) errorf(n ast.Node, format string, args ...any) *treeError {
	return &treeError{at: tokenPos(n.GetToken()), msg: fmt.Sprintf(format, args...)}
}

// build converts n and everything under it.
func (b *builder) build(n ast.Node, depth int) (*node, *treeError) {
	if depth > maxDepth {
		return nil, b.errorf(n, "the file nests values more than %d levels deep", maxDepth)
	}
	if b.budget--; b.budget < 0 {
		return nil, b.errorf(n, "aliases expand the file to more values than it could hold: refusing to read it further")
	}
	at := tokenPos(n.GetToken())
	switch n := n.(type) {
	case *ast.NullNode:
		return &node{kind: kindNull, pos: at}, nil
	case *ast.BoolNode:
		return &node{kind: kindBool, text: n.GetToken().Value, pos: at}, nil
	case *ast.StringNode:
		return &node{kind: kindScalar, text: n.Value, pos: at}, nil
	case *ast.LiteralNode:
		text := ""
		if n.Value != nil {
			text = n.Value.Value
		}
		return &node{kind: kindScalar, text: text, pos: at}, nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		// Numbers are kept as written ("1.0" stays "1.0"): every field of
		// the standard that accepts one is a string.
		return &node{kind: kindScalar, text: n.GetToken().Value, pos: at}, nil
	case *ast.MappingNode:
		return b.mapping(n, depth)
	case *ast.MappingValueNode:
		// A mapping of one entry may come as the bare entry.
		return b.mapping(&ast.MappingNode{Values: []*ast.MappingValueNode{n}}, depth)
	case *ast.SequenceNode:
		s := &node{kind: kindSeq, pos: at, items: make([]*node, 0, len(n.Values))}
		for _, v := range n.Values {
			item, err := b.build(v, depth+1)
			if err != nil {
				return nil, err
			}
			s.items = append(s.items, item)
		}
		return s, nil
	case *ast.AnchorNode:
		if n.Name == nil || n.Value == nil {
			return &node{kind: kindNull, pos: at}, nil
		}
		b.anchors[n.Name.GetToken().Value] = n.Value
		return b.build(n.Value, depth)
	case *ast.AliasNode:
		return b.alias(n, depth)
	case *ast.TagNode:
		return b.tagged(n, depth)
	case *ast.MappingKeyNode:
		if n.Value == nil {
			return &node{kind: kindNull, pos: at}, nil
		}
		return b.build(n.Value, depth)
	default:
		return nil, b.errorf(n, "the file holds a YAML %s where a value was expected", n.Type())
	}
}

// alias copies the anchored value; the copy takes the alias's place in the
// file so that a fault in it is reported where the alias is.
func (b *builder) alias(n *ast.AliasNode, depth int) (*node, *treeError) {
	name := ""
	if n.Value != nil {
		name = n.Value.GetToken().Value
	}
	target, ok := b.anchors[name]
	if !ok {
		return nil, b.errorf(n, "the alias *%s names no anchor defined before it", name)
	}
	v, err := b.build(target, depth+1)
	if err != nil {
		return nil, err
	}
	v.pos = tokenPos(n.GetToken())
	return v, nil
}

// tagged reads a value with an explicit tag. Only !!str changes how the
// value is read (a number or a bool written as a string); other tags are
// what the value would resolve to anyway, or ones the standard never uses.
func (b *builder) tagged(n *ast.TagNode, depth int) (*node, *treeError) {
	var v *node
	if n.Value == nil {
		v = &node{kind: kindNull, pos: tokenPos(n.GetToken())}
	} else {
		var err *treeError
		if v, err = b.build(n.Value, depth); err != nil {
			return nil, err
		}
	}
	if n.Start != nil && n.Start.Value == "!!str" && (v.kind == kindNull || v.kind == kindBool || v.kind == kindScalar) {
		v.kind = kindScalar
		if n.Value == nil {
			v.text = ""
		}
	}
	return v, nil
}

// mapping converts a mapping; merge keys (<<) bring in the entries of the
// mappings they name, after the mapping's own, which win.
func (b *builder) mapping(n *ast.MappingNode, depth int) (*node, *treeError) {
	m := &node{kind: kindMap, pos: tokenPos(n.GetToken()), pairs: make([]pair, 0, len(n.Values))}
	if n.IsFlowStyle {
		m.pos = tokenPos(n.Start)
	}
	var merged []pair
	for i, mv := range n.Values {
		if mv == nil || mv.Key == nil {
			continue
		}
		if i == 0 && !n.IsFlowStyle {
			// A block mapping starts where its first key does.
			m.pos = tokenPos(mv.Key.GetToken())
		}
		var value *node
		if mv.Value == nil {
			value = &node{kind: kindNull, pos: tokenPos(mv.GetToken())}
		} else {
			var err *treeError
			if value, err = b.build(mv.Value, depth+1); err != nil {
				return nil, err
			}
		}
		if mv.Key.Type() == ast.MergeKeyType {
			more, err := mergeSources(mv, value)
			if err != nil {
				return nil, err
			}
			merged = append(merged, more...)
			continue
		}
		key, err := b.key(mv.Key, depth)
		if err != nil {
			return nil, err
		}
		m.pairs = append(m.pairs, pair{key: key, keyPos: tokenPos(mv.Key.GetToken()), value: value})
	}
	for _, p := range merged {
		if m.lookup(p.key) == nil {
			m.pairs = append(m.pairs, p)
		}
	}
	return m, nil
}

// mergeSources lists the entries a merge key brings: those of a mapping, or
// of each mapping of a sequence.
func mergeSources(mv *ast.MappingValueNode, v *node) ([]pair, *treeError) {
	bad := &treeError{at: tokenPos(mv.Key.GetToken()), msg: "a merge key (<<) must name a mapping or a list of mappings"}
	switch v.kind {
	case kindMap:
		return v.pairs, nil
	case kindSeq:
		var out []pair
		for _, it := range v.items {
			if it.kind != kindMap {
				return nil, bad
			}
			out = append(out, it.pairs...)
		}
		return out, nil
	}
	return nil, bad
}

// key reads a mapping key, which must be a scalar.
func (b *builder) key(k ast.Node, depth int) (string, *treeError) {
	kn, err := b.build(k, depth+1)
	if err != nil {
		return "", err
	}
	switch kn.kind {
	case kindScalar, kindBool:
		return kn.text, nil
	case kindNull:
		return "", nil
	}
	return "", b.errorf(k, "a mapping key must be a plain value, not a list or a mapping")
}

// lookup finds the value of key in a mapping, or nil.
func (n *node) lookup(key string) *node {
	for i := range n.pairs {
		if n.pairs[i].key == key {
			return n.pairs[i].value
		}
	}
	return nil
}

// describe names what a node is, for messages.
func (n *node) describe() string {
	switch n.kind {
	case kindNull:
		return "an empty value"
	case kindBool:
		return "a boolean (" + n.text + ")"
	case kindMap:
		return "a mapping"
	case kindSeq:
		return "a list"
	}
	return fmt.Sprintf("the text %q", clip(n.text))
}

// keysByLine names, for each line, the first key or list item that starts
// on it, in file order: the reference parser names a value of the wrong
// type that way, so a list found where a mapping was expected is named by
// its first item ("organisation[0]") and a mapping where a list was
// expected by its first key ("fundedBy.name"). It is made once for a
// file: a file of many wrong types looked each one up in the whole tree,
// which cost the square of its size (a minute for 220 KB).
func keysByLine(root *node) map[int]string {
	keys := map[int]string{}
	at := func(line int, path string) {
		if _, ok := keys[line]; !ok {
			keys[line] = path
		}
	}
	var walk func(n *node, path string)
	walk = func(n *node, path string) {
		switch n.kind {
		case kindMap:
			for _, p := range n.pairs {
				k := join(path, p.key)
				at(p.keyPos.line, k)
				walk(p.value, k)
			}
		case kindSeq:
			for i, it := range n.items {
				k := index(path, i)
				at(it.pos.line, k)
				walk(it, k)
			}
		}
	}
	walk(root, "")
	return keys
}

// join makes the key path of key under path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index makes the key path of the i-th item of the list at path.
func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
