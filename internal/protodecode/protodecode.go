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
// with valid numbers and no groups, whose values are complete, and valid
// UTF-8 in the strings of the fields the message knows, in messages
// nested up to maxDepth. It errs on the side of false: proto.Unmarshal
// decides then.
func wellFormed(b []byte, p *plan, depth int) bool {
	if depth > maxDepth {
		return false
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
			return false
		}
		b = b[n:]
		f := p.field(num)
		if f == nil && !p.keepsUnknown {
			return false
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
			case protoreflect.GroupKind:
				return false
			}
		case protowire.VarintType, protowire.Fixed32Type, protowire.Fixed64Type:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return false
			}
			b = b[n:]
		default: // groups, and wire types that do not exist
			return false
		}
	}
	return true
}

// A plan is what wellFormed needs of a message's descriptor, by field
// number: looking fields up in the descriptor cost as much as decoding.
type plan struct {
	// keepsUnknown is false for google.protobuf's messages (timestamps),
	// which the generated code decodes with vtprotobuf's own functions:
	// they drop the fields they do not know, which proto.Unmarshal keeps.
	keepsUnknown bool
	byNumber     []*fieldPlan // nil when numbers go past maxPlanNumber
	fields       protoreflect.FieldDescriptors
}

type fieldPlan struct {
	kind    protoreflect.Kind
	message protoreflect.MessageDescriptor
	nested  atomic.Pointer[plan] // message's, once met
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
		return &fieldPlan{kind: fd.Kind(), message: fd.Message()} // a message of huge field numbers: rare
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
	p := &plan{keepsUnknown: md.ParentFile().Package() != "google.protobuf", fields: fields}
	top := 0
	for i := range fields.Len() {
		top = max(top, int(fields.Get(i).Number()))
	}
	if top <= maxPlanNumber {
		p.byNumber = make([]*fieldPlan, top+1)
		for i := range fields.Len() {
			fd := fields.Get(i)
			p.byNumber[fd.Number()] = &fieldPlan{kind: fd.Kind(), message: fd.Message()}
		}
	}
	actual, _ := plans.LoadOrStore(md, p)
	return actual.(*plan)
}
