package node

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// applyMask copies the fields mask names from src into dst, both of the same
// message type: a path names a field ("display_name") or a field of a
// message field ("maintenance.type"); a named field absent from src is
// cleared in dst. An empty mask copies every writable field. Fields in
// outputOnly cannot be named. Errors name the offending path.
func applyMask(dst, src proto.Message, mask *fieldmaskpb.FieldMask, outputOnly map[string]bool) error {
	paths := mask.GetPaths()
	if len(paths) == 0 || (len(paths) == 1 && paths[0] == "*") {
		fields := src.ProtoReflect().Descriptor().Fields()
		paths = paths[:0]
		for i := range fields.Len() {
			if name := string(fields.Get(i).Name()); !outputOnly[name] {
				paths = append(paths, name)
			}
		}
	}
	for _, p := range paths {
		if outputOnly[p] {
			return fmt.Errorf("%q is output only and cannot be updated", p)
		}
		if err := copyPath(dst.ProtoReflect(), src.ProtoReflect(), strings.Split(p, ".")); err != nil {
			return fmt.Errorf("%q: %w", p, err)
		}
	}
	return nil
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
	if fd.Message() == nil || fd.IsList() || fd.IsMap() {
		return fmt.Errorf("%q has no sub-fields to select", path[0])
	}
	// When src lacks the field, Get gives an empty read-only message, so
	// the sub-field is cleared in dst.
	return copyPath(dst.Mutable(fd).Message(), src.Get(fd).Message(), path[1:])
}
