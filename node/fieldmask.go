package node

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// applyMask copies the fields mask names from src into dst, both of the same
// message type: a path names a field ("display_name"), a field of a
// message field ("maintenance.type") or an entry of a map field
// ("descriptions.fr"); a named field or entry absent from src is cleared
// in dst. The mask "*" copies every writable field, src's empty ones
// clearing dst's: a full replacement. An empty mask copies the fields src
// holds (AIP-134's implied mask, see impliedPaths): a client that sends a
// tool's new license alone, and no mask, changes its license and nothing
// else, where a replacement would have wiped every other field. Paths
// into the fields of outputOnly are ignored (AIP-203), so that the body of
// a read, etag included, can be sent back as an update, whose mask
// grpc-gateway makes of the body's fields. It returns how many paths it
// applied. Errors name the offending path.
func applyMask(dst, src proto.Message, mask *fieldmaskpb.FieldMask, outputOnly map[string]bool) (int, error) {
	paths := mask.GetPaths()
	switch {
	case len(paths) == 1 && paths[0] == "*":
		fields := src.ProtoReflect().Descriptor().Fields()
		paths = nil
		for i := range fields.Len() {
			paths = append(paths, string(fields.Get(i).Name()))
		}
	case len(paths) == 0:
		paths = impliedPaths(src.ProtoReflect(), "")
	}
	applied := 0
	for _, p := range paths {
		path := strings.Split(p, ".")
		if outputOnly[path[0]] {
			continue
		}
		if err := copyPath(dst.ProtoReflect(), src.ProtoReflect(), path); err != nil {
			return 0, fmt.Errorf("%q: %w", p, err)
		}
		applied++
	}
	return applied, nil
}

// impliedPaths is the mask of the fields m holds, as grpc-gateway makes
// one of a PATCH's body, so that an update without a mask changes the
// same fields over gRPC as over REST: a message field's path is those of
// the fields it holds ("maintenance.type", which leaves its contacts as
// they were), or its own when it holds none; a list, a map or a message
// of protobuf's own types (a Timestamp) is whole.
func impliedPaths(m protoreflect.Message, prefix string) []string {
	var paths []string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		path := prefix + string(fd.Name())
		sub := fd.Message()
		if fd.IsList() || fd.IsMap() || sub == nil || sub.ParentFile().Package() == "google.protobuf" {
			paths = append(paths, path)
			return true
		}
		if nested := impliedPaths(v.Message(), path+"."); len(nested) > 0 {
			paths = append(paths, nested...)
		} else {
			paths = append(paths, path)
		}
		return true
	})
	return paths
}

func copyPath(dst, src protoreflect.Message, path []string) error {
	fd := dst.Descriptor().Fields().ByName(protoreflect.Name(path[0]))
	if fd == nil {
		return fmt.Errorf("no field %q in %s", path[0], dst.Descriptor().Name())
	}
	if len(path) == 1 {
		if src.Has(fd) {
			dst.Set(fd, src.Get(fd))
		} else {
			dst.Clear(fd)
		}
		return nil
	}
	if fd.IsMap() && len(path) == 2 && fd.MapKey().Kind() == protoreflect.StringKind {
		if path[1] == "" {
			return fmt.Errorf("names no entry of %q", path[0])
		}
		key := protoreflect.ValueOfString(path[1]).MapKey()
		if from := src.Get(fd).Map(); from.Has(key) {
			dst.Mutable(fd).Map().Set(key, from.Get(key))
		} else if dst.Has(fd) {
			dst.Mutable(fd).Map().Clear(key)
		}
		return nil
	}
	if fd.IsMap() {
		return fmt.Errorf("%q: a path names an entry of it (%s.KEY), not the fields of one", path[0], path[0])
	}
	if fd.Message() == nil || fd.IsList() {
		return fmt.Errorf("%q has no sub-fields to select", path[0])
	}
	// When src lacks the field, Get gives an empty read-only message, so
	// the sub-field is cleared in dst. A message dst did not have, left
	// empty, is not made: "maintenance.type" cleared on a tool without
	// maintenance changes nothing (an empty message is not an unset one
	// to proto.Equal, and the update would write a version for nothing).
	had := dst.Has(fd)
	sub := dst.Mutable(fd).Message()
	if err := copyPath(sub, src.Get(fd).Message(), path[1:]); err != nil {
		return err
	}
	if !had && proto.Size(sub.Interface()) == 0 {
		dst.Clear(fd)
	}
	return nil
}
