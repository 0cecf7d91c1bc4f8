// Package protodecode decodes the protobuf messages a node receives in bulk
// from its peers (pages of records, the records, and the tools inside)
// with the unmarshalers vtprotobuf generates into gen/ (see buf.gen.yaml),
// and accepts exactly what proto.Unmarshal accepts, decoded alike. Without
// copies (UnmarshalAliasing), a tool of a catalog's size decodes in about
// 60% of protobuf-go's time, with a third of its allocations
// (BenchmarkDecode).
//
// The generated unmarshalers check less than protobuf-go: they take any
// bytes for a string, and keep only the low 32 bits of a field number. So
// a message is decoded by them only when a walk of its wire format, led
// by the message's descriptor, finds every field number valid, every
// string of a known field valid UTF-8, no group, and no unknown field in
// google.protobuf's messages (whose generated code drops them); anything
// else, and anything they refuse, is decoded again by proto.Unmarshal,
// whose result and error are then the answer. The walk reads tags and
// lengths, and the bytes of strings only (which protobuf-go checks too):
// a third of the time of the decoding it saves.
package protodecode

import (
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxDepth is how deep the walk follows nested messages; deeper ones are
// left to proto.Unmarshal, which has its own limit.
const maxDepth = 64

type copying interface{ UnmarshalVT([]byte) error }

type aliasing interface{ UnmarshalVTUnsafe([]byte) error }

// Unmarshal decodes b into m, as proto.Unmarshal does (m is reset first),
// with m's generated unmarshaler when it has one. m keeps nothing of b.
func Unmarshal(b []byte, m proto.Message) error {
	var generated func([]byte) error
	if vt, ok := m.(copying); ok {
		generated = vt.UnmarshalVT
	}
	return decode(b, m, generated)
}

// UnmarshalAliasing decodes b into m as Unmarshal does, but m's strings
// and bytes are b's memory, not copies, when m has a generated aliasing
// unmarshaler: nothing must change b while m is in use, and whatever
// keeps one of m's strings keeps all of b. It saves most of the decoding's
// allocations, for messages that live briefly.
func UnmarshalAliasing(b []byte, m proto.Message) error {
	var generated func([]byte) error
	if vt, ok := m.(aliasing); ok {
		generated = vt.UnmarshalVTUnsafe
	}
	return decode(b, m, generated)
}

// Messages counts the messages that decoding b as m would make, nested ones
// and map entries included, up to limit: past it, it returns limit+1. It
// reads tags and lengths only, and b need not be well formed (it counts
// until b stops making sense, as a decoder would decode until then). A
// message costs a hundred bytes and more once decoded, and may take two
// on the wire: a peer's record of a million empty messages made 120 MB.
func Messages(b []byte, m proto.Message, limit int) int {
	n := 0
	countMessages(b, planOf(m.ProtoReflect().Descriptor()), 0, &n, limit)
	return min(n, limit+1)
}

func countMessages(b []byte, p *plan, depth int, n *int, limit int) {
	for len(b) > 0 && *n <= limit {
		num, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			return
		}
		b = b[k:]
		if typ != protowire.BytesType {
			if k = protowire.ConsumeFieldValue(num, typ, b); k < 0 {
				return
			}
			b = b[k:]
			continue
		}
		v, k := protowire.ConsumeBytes(b)
		if k < 0 {
			return
		}
		b = b[k:]
		if f := p.field(num); f != nil && f.kind == protoreflect.MessageKind {
			*n++
			if depth < maxDepth {
				countMessages(v, f.plan(), depth+1, n, limit)
			}
		}
	}
}

// decode decodes b into m with generated, m's generated unmarshaler, when
// there is one and b is well formed, and with proto.Unmarshal otherwise or
// when generated refuses b.
func decode(b []byte, m proto.Message, generated func([]byte) error) error {
	if generated != nil && wellFormed(b, planOf(m.ProtoReflect().Descriptor()), 0) {
		proto.Reset(m)
		if generated(b) == nil {
			return nil
		}
	}
	return proto.Unmarshal(b, m)
}

// wellFormed reports whether b, as a message of plan p, holds only fields
// with valid numbers, each of the wire type proto.Marshal writes for it
// (or packed, for a repeated number), complete and with varints of at
// most 64 bits, no group, valid UTF-8 in the strings of the fields the
// message knows, and map entries of one key and one value, in messages
// nested up to maxDepth. It errs on the side of false: proto.Unmarshal
// decides then. The generated code would take some of what it refuses
// differently: a key or a value of another wire type, a map entry's value
// twice (replaced rather than merged), a varint cut short inside packed
// numbers (read on into the next field).
func wellFormed(b []byte, p *plan, depth int) bool {
	if depth > maxDepth {
		return false
	}
	var entry uint8 // the fields of a map entry met: 1 << number
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
			return false
		}
		if n > protowire.SizeTag(num) {
			// A tag in more bytes than it needs: proto.Unmarshal keeps an
			// unknown field's shortened, the generated code as sent.
			return false
		}
		b = b[n:]
		f := p.field(num)
		switch {
		case p.mapEntry && (f == nil || entry&(1<<num) != 0):
			return false
		case p.mapEntry:
			entry |= 1 << num
		case f == nil && !p.keepsUnknown:
			return false
		}
		if f != nil && typ != f.wire {
			if typ != protowire.BytesType || !f.packable {
				return false
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || !packed(v, f.wire) {
				return false
			}
			b = b[n:]
			continue
		}
		switch typ {
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			if f == nil {
				continue
			}
			switch f.kind {
			case protoreflect.StringKind:
				if !utf8.Valid(v) {
					return false
				}
			case protoreflect.MessageKind:
				if !wellFormed(v, f.plan(), depth+1) {
					return false
				}
			}
		case protowire.VarintType, protowire.Fixed32Type, protowire.Fixed64Type:
			n := protowire.ConsumeFieldValue(num, typ, b) // refuses varints past 64 bits
			if n < 0 {
				return false
			}
			b = b[n:]
		default: // groups, and wire types that do not exist
			return false
		}
	}
	return !p.mapEntry || entry == 1<<1|1<<2
}

// packed reports whether v is whole numbers of wire type typ, end to end.
func packed(v []byte, typ protowire.Type) bool {
	switch typ {
	case protowire.VarintType:
		for len(v) > 0 {
			_, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return false
			}
			v = v[n:]
		}
		return true
	case protowire.Fixed32Type:
		return len(v)%4 == 0
	case protowire.Fixed64Type:
		return len(v)%8 == 0
	}
	return false
}

// A plan is what wellFormed needs of a message's descriptor, by field
// number: looking fields up in the descriptor cost as much as decoding.
type plan struct {
	// keepsUnknown is false for google.protobuf's messages (timestamps),
	// which the generated code decodes with vtprotobuf's own functions:
	// they drop the fields they do not know, which proto.Unmarshal keeps.
	keepsUnknown bool
	mapEntry     bool
	byNumber     []*fieldPlan // nil when numbers go past maxPlanNumber
	fields       protoreflect.FieldDescriptors
}

type fieldPlan struct {
	kind     protoreflect.Kind
	wire     protowire.Type // the one proto.Marshal writes, unpacked
	packable bool           // a repeated number, which may come packed
	message  protoreflect.MessageDescriptor
	nested   atomic.Pointer[plan] // message's, once met
}

func newFieldPlan(fd protoreflect.FieldDescriptor) *fieldPlan {
	f := &fieldPlan{kind: fd.Kind(), message: fd.Message()}
	switch fd.Kind() {
	case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Uint32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		f.wire = protowire.VarintType
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		f.wire = protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		f.wire = protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		f.wire = protowire.BytesType
	default: // groups
		f.wire = protowire.StartGroupType
	}
	f.packable = fd.IsList() && f.wire != protowire.BytesType && f.wire != protowire.StartGroupType
	return f
}

// plan is the plan of the field's message.
func (f *fieldPlan) plan() *plan {
	if p := f.nested.Load(); p != nil {
		return p
	}
	p := planOf(f.message)
	f.nested.Store(p)
	return p
}

// maxPlanNumber bounds the field numbers a plan holds in a slice.
const maxPlanNumber = 256

// field is the plan of field num, nil if the message has none of that
// number.
func (p *plan) field(num protowire.Number) *fieldPlan {
	if p.byNumber != nil {
		if int(num) < len(p.byNumber) {
			return p.byNumber[num]
		}
		return nil
	}
	if fd := p.fields.ByNumber(num); fd != nil {
		return newFieldPlan(fd) // a message of huge field numbers: rare
	}
	return nil
}

// plans holds the plan of each message descriptor met, as protobuf-go's
// own registries hold the descriptors: a process has a fixed set of them.
var plans sync.Map // protoreflect.MessageDescriptor → *plan

func planOf(md protoreflect.MessageDescriptor) *plan {
	if p, ok := plans.Load(md); ok {
		return p.(*plan)
	}
	fields := md.Fields()
	p := &plan{keepsUnknown: md.ParentFile().Package() != "google.protobuf", mapEntry: md.IsMapEntry(), fields: fields}
	top := 0
	for i := range fields.Len() {
		top = max(top, int(fields.Get(i).Number()))
	}
	if top <= maxPlanNumber {
		p.byNumber = make([]*fieldPlan, top+1)
		for i := range fields.Len() {
			fd := fields.Get(i)
			p.byNumber[fd.Number()] = newFieldPlan(fd)
		}
	}
	actual, _ := plans.LoadOrStore(md, p)
	return actual.(*plan)
}

// InvalidString is the path of the first string of b, as a message of m's
// kind, that is not UTF-8, which proto.Unmarshal refuses without naming
// it: "tool.display_name", a map's keys and values by the map's name
// ("tool.descriptions.short_description"). It is "" when every string is
// (or b stops making sense before one that is not).
func InvalidString(b []byte, m proto.Message) string {
	return invalidString(b, m.ProtoReflect().Descriptor(), "", 0)
}

func invalidString(b []byte, d protoreflect.MessageDescriptor, path string, depth int) string {
	if depth > maxDepth {
		return ""
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return ""
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		fd := d.Fields().ByNumber(num)
		if fd == nil {
			continue
		}
		at := path // a map entry's key or value, named by its map
		if !d.IsMapEntry() {
			at = string(fd.Name())
			if path != "" {
				at = path + "." + at
			}
		}
		switch fd.Kind() {
		case protoreflect.StringKind:
			if !utf8.Valid(v) {
				return at
			}
		case protoreflect.MessageKind:
			if p := invalidString(v, fd.Message(), at, depth+1); p != "" {
				return p
			}
		}
	}
	return ""
}
