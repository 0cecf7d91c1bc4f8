package web

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// mergeEdits is what a curator's edit of a record becomes when someone
// changed the record since the form was opened: theirs (the version now
// current) with what mine (the record as the form describes it) changed of
// base (the version the form showed), field by field of fields (the
// fields the form edits), a map's entries each (a description by its
// language). conflicts are the fields, or map entries ("descriptions.fr"),
// that both changed, and differently: merged holds mine's there.
func mergeEdits[R proto.Message](base, mine, theirs R, fields []string) (merged R, conflicts []string) {
	merged = proto.Clone(theirs).(R)
	out := merged.ProtoReflect()
	var fds []protoreflect.FieldDescriptor
	for _, name := range fields {
		if fd := out.Descriptor().Fields().ByName(protoreflect.Name(name)); fd != nil {
			fds = append(fds, fd)
		}
	}
	mergeFields(base.ProtoReflect(), mine.ProtoReflect(), theirs.ProtoReflect(), out, fds, "", &conflicts)
	slices.Sort(conflicts)
	return merged, conflicts
}

// mergeFields merges into out, theirs as it was, what m changed of b, field
// by field of fds, a map's entries each, a message's fields each where both
// changed it (publisher.name and publisher.uri), naming the conflicts
// after prefix.
func mergeFields(b, m, t, out protoreflect.Message, fds []protoreflect.FieldDescriptor, prefix string, conflicts *[]string) {
	for _, fd := range fds {
		name := prefix + string(fd.Name())
		switch {
		case fd.IsMap():
			mergeMap(b, m, t, out, fd, name, conflicts)
		case equalField(m, b, fd):
		case fd.Message() != nil && !fd.IsList() && !equalField(t, b, fd):
			// Both changed the message: merged field by field.
			sub := fd.Message().Fields()
			subs := make([]protoreflect.FieldDescriptor, sub.Len())
			for i := range sub.Len() {
				subs[i] = sub.Get(i)
			}
			mergeFields(b.Get(fd).Message(), m.Get(fd).Message(), t.Get(fd).Message(), out.Mutable(fd).Message(), subs, name+".", conflicts)
			if proto.Size(out.Get(fd).Message().Interface()) == 0 {
				out.Clear(fd) // emptied: none, as neither side wrote an empty one
			}
		default:
			if !equalField(t, b, fd) && !equalField(m, t, fd) {
				*conflicts = append(*conflicts, name)
			}
			if m.Has(fd) {
				out.Set(fd, m.Get(fd))
			} else {
				out.Clear(fd)
			}
		}
	}
}

// mergeMap merges the map field fd, entry by entry.
func mergeMap(b, m, t, out protoreflect.Message, fd protoreflect.FieldDescriptor, name string, conflicts *[]string) {
	bm, mm, tm := mapOf(b, fd), mapOf(m, fd), mapOf(t, fd)
	var keys []protoreflect.MapKey
	for _, mp := range []protoreflect.Map{bm, mm, tm} {
		mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			if !slices.ContainsFunc(keys, func(o protoreflect.MapKey) bool { return o.Interface() == k.Interface() }) {
				keys = append(keys, k)
			}
			return true
		})
	}
	outMap := out.Mutable(fd).Map()
	for _, k := range keys {
		if equalEntry(mm, bm, k, fd) {
			continue
		}
		if !equalEntry(tm, bm, k, fd) && !equalEntry(mm, tm, k, fd) {
			*conflicts = append(*conflicts, name+"."+k.String())
		}
		if mm.Has(k) {
			outMap.Set(k, mm.Get(k))
		} else {
			outMap.Clear(k)
		}
	}
	if outMap.Len() == 0 {
		out.Clear(fd)
	}
}

// mapOf is m's map field fd, empty when unset.
func mapOf(m protoreflect.Message, fd protoreflect.FieldDescriptor) protoreflect.Map {
	return m.Get(fd).Map()
}

// equalField reports whether a and b hold the same value of field fd, an
// unset message or list being the same as an empty one (a form gives no
// maintenance where the record had an empty one).
func equalField(a, b protoreflect.Message, fd protoreflect.FieldDescriptor) bool {
	if fd.Message() != nil && !fd.IsList() {
		return equalMessages(a.Get(fd).Message(), b.Get(fd).Message())
	}
	return a.Get(fd).Equal(b.Get(fd))
}

// equalEntry reports whether maps a and b hold the same value at k, a
// missing entry being none.
func equalEntry(a, b protoreflect.Map, k protoreflect.MapKey, fd protoreflect.FieldDescriptor) bool {
	if a.Has(k) != b.Has(k) {
		return false
	}
	if !a.Has(k) {
		return true
	}
	if fd.MapValue().Message() != nil {
		return equalMessages(a.Get(k).Message(), b.Get(k).Message())
	}
	return a.Get(k).Equal(b.Get(k))
}

// equalMessages is proto.Equal, an unset message being an empty one.
func equalMessages(a, b protoreflect.Message) bool {
	empty := func(m protoreflect.Message) bool { return !m.IsValid() || proto.Size(m.Interface()) == 0 }
	if empty(a) || empty(b) {
		return empty(a) && empty(b)
	}
	return proto.Equal(a.Interface(), b.Interface())
}

// fieldText is the value of rec's field (a path of fields of messages:
// "publisher.name") as a short text, to show whom a change meanwhile made
// it: a text field's, a list of texts' joined by commas; "" for any other
// field, or a map's entry ("descriptions.fr").
func fieldText(rec proto.Message, field string) string {
	m := rec.ProtoReflect()
	names := strings.Split(field, ".")
	for i, name := range names {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
		switch {
		case fd == nil || fd.IsMap():
			return ""
		case i < len(names)-1:
			if fd.Message() == nil || fd.IsList() {
				return ""
			}
			m = m.Get(fd).Message()
		case fd.Kind() != protoreflect.StringKind:
			return ""
		case !fd.IsList():
			return m.Get(fd).String()
		default:
			l := m.Get(fd).List()
			items := make([]string, l.Len())
			for i := range l.Len() {
				items[i] = l.Get(i).String()
			}
			return strings.Join(items, ", ")
		}
	}
	return ""
}
