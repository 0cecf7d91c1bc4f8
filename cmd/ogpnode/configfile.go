package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Limits of a config file, far above any real one: its YAML is decoded
// several times over (each flag's value, the list of harvests), and an
// alias names a value as many times as it is written, so that a file of
// lists of ten aliases of the list before ("billion laughs") grows
// tenfold at each level: 300 bytes took 28 GB.
const (
	maxConfigBytes = 1 << 20
	// maxConfigValues bounds the values of the file, each alias counted
	// as the values of its anchor: two hundred harvests that each merge
	// one source of thirty columns (<<: *sheet) are some seven thousand.
	maxConfigValues = 1 << 16
	// maxConfigDepth bounds how deep values nest.
	maxConfigDepth = 64
)

// readConfigBytes reads the config file at path, refusing one that is too
// large, or whose aliases expand it past maxConfigValues.
func readConfigBytes(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(b) > maxConfigBytes {
		return nil, fmt.Errorf("config %s: larger than %d MiB: this is not a config file", path, maxConfigBytes>>20)
	}
	file, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, yamlError(err))
	}
	c := valueCounter{anchors: map[string]int{}}
	total := 0
	for _, doc := range file.Docs {
		n, err := c.count(doc, 0)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		if total += n; total > maxConfigValues {
			return nil, fmt.Errorf("config %s: aliases (*name) expand the file to more than %d values: refusing to read it", path, maxConfigValues)
		}
	}
	return b, nil
}

// valueCounter counts the values of a YAML document, an alias as the
// values of its anchor, which it counts once: a file is walked once,
// whatever its aliases expand it to.
type valueCounter struct {
	anchors map[string]int // the values of each anchor's value, or beingCounted
}

// beingCounted marks an anchor whose value is being counted.
const beingCounted = -1

// count is the number of values of n, aliases expanded, at most one more
// than maxConfigValues.
func (c *valueCounter) count(n ast.Node, depth int) (int, error) {
	if n == nil {
		return 0, nil
	}
	if depth > maxConfigDepth {
		return 0, fmt.Errorf("line %d: values nest more than %d levels deep", n.GetToken().Position.Line, maxConfigDepth)
	}
	var children []ast.Node
	switch n := n.(type) {
	case *ast.DocumentNode:
		return c.count(n.Body, depth)
	case *ast.MappingNode:
		for _, v := range n.Values {
			children = append(children, v)
		}
	case *ast.MappingValueNode:
		children = []ast.Node{n.Key, n.Value}
	case *ast.MappingKeyNode:
		return c.count(n.Value, depth)
	case *ast.SequenceNode:
		children = n.Values
	case *ast.AnchorNode:
		if n.Name == nil {
			return c.count(n.Value, depth)
		}
		name := n.Name.GetToken().Value
		c.anchors[name] = beingCounted
		values, err := c.count(n.Value, depth)
		c.anchors[name] = values
		return values, err
	case *ast.AliasNode:
		if n.Value == nil {
			return 1, nil
		}
		name := n.Value.GetToken().Value
		values, ok := c.anchors[name]
		if !ok || values == beingCounted {
			// An alias within its own anchor's value is a value without
			// end, which the decoder followed until the stack ran out.
			return 0, fmt.Errorf("line %d: the alias *%s is not of an anchor before it, or is within that anchor's own value", n.GetToken().Position.Line, name)
		}
		return values, nil
	case *ast.TagNode:
		return c.count(n.Value, depth)
	}
	total := 1
	for _, child := range children {
		values, err := c.count(child, depth+1)
		if err != nil {
			return 0, err
		}
		if total += values; total > maxConfigValues {
			return 0, fmt.Errorf("line %d: aliases (*name) expand the file to more than %d values: refusing to read it", n.GetToken().Position.Line, maxConfigValues)
		}
	}
	return total, nil
}

// yamlError is err, an error of the YAML decoder, without the lines of
// the file it quotes around the fault: its place and what is wrong say
// enough, and those lines may hold the gossip key, or a harvest's
// password, which the error would print in the node's log.
func yamlError(err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		return errors.New(yaml.FormatError(err, false, false))
	}
	return err
}
