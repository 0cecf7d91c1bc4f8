package main

import (
	"fmt"
	"io"
	"os"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Limits of a config file, far above any real one (a few dozen lines):
// its YAML is decoded several times over (each flag's value, the list of
// harvests), and an alias names a value as many times as it is written,
// so that a file of lists of ten aliases of the list before ("billion
// laughs") grows tenfold at each level: 300 bytes took 28 GB.
const (
	maxConfigBytes = 1 << 20
	// maxConfigExtraValues is how many values aliases may add beyond one
	// per byte of the file (no file holds more without aliases).
	maxConfigExtraValues = 1 << 12
	// maxConfigDepth bounds how deep values nest.
	maxConfigDepth = 64
)

// readConfigBytes reads the config file at path, refusing one that is too
// large, or whose aliases expand it to more values than its size holds.
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
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c := valueCounter{anchors: map[string]ast.Node{}, left: len(b) + maxConfigExtraValues}
	for _, doc := range file.Docs {
		if err := c.count(doc, 0); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	return b, nil
}

// valueCounter counts the values of a YAML document, each alias as many
// times as its anchor's value holds, until left is spent.
type valueCounter struct {
	anchors map[string]ast.Node
	left    int
}

func (c *valueCounter) count(n ast.Node, depth int) error {
	if n == nil {
		return nil
	}
	if depth > maxConfigDepth {
		return fmt.Errorf("line %d: values nest more than %d levels deep", n.GetToken().Position.Line, maxConfigDepth)
	}
	if c.left--; c.left < 0 {
		return fmt.Errorf("line %d: aliases (*name) expand the file to more values than it could hold: refusing to read it further", n.GetToken().Position.Line)
	}
	switch n := n.(type) {
	case *ast.DocumentNode:
		return c.count(n.Body, depth)
	case *ast.MappingNode:
		for _, v := range n.Values {
			if err := c.count(v, depth+1); err != nil {
				return err
			}
		}
	case *ast.MappingValueNode:
		if err := c.count(n.Key, depth+1); err != nil {
			return err
		}
		return c.count(n.Value, depth+1)
	case *ast.MappingKeyNode:
		return c.count(n.Value, depth)
	case *ast.SequenceNode:
		for _, v := range n.Values {
			if err := c.count(v, depth+1); err != nil {
				return err
			}
		}
	case *ast.AnchorNode:
		if n.Name != nil {
			c.anchors[n.Name.GetToken().Value] = n.Value
		}
		return c.count(n.Value, depth)
	case *ast.AliasNode:
		if n.Value != nil {
			return c.count(c.anchors[n.Value.GetToken().Value], depth+1)
		}
	case *ast.TagNode:
		return c.count(n.Value, depth)
	}
	return nil
}
