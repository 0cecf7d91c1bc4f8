package protodecode

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// decoders are the two ways of the package, to hold to the same answers.
var decoders = map[string]func([]byte, proto.Message) error{
	"Unmarshal":         Unmarshal,
	"UnmarshalAliasing": UnmarshalAliasing,
}

// The messages the package decodes in the node, each with a generated
// unmarshaler.
func generated() []proto.Message {
	return []proto.Message{&catalogv1.Tool{}, &catalogv1.UseCase{}, &federationv1.Record{}, &federationv1.PullResponse{}}
}

// fill sets every field of m to random values: strings of several
// scripts, lists and maps of up to three, nested messages down to a depth.
func fill(rng *rand.Rand, m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if rng.IntN(5) == 0 {
			continue
		}
		switch {
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for range rng.IntN(3) + 1 {
				v := mp.NewValue()
				if fd.MapValue().Kind() == protoreflect.MessageKind {
					if depth < 3 {
						fill(rng, v.Message(), depth+1)
					}
				} else {
					v = value(rng, fd.MapValue())
				}
				mp.Set(value(rng, fd.MapKey()).MapKey(), v)
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for range rng.IntN(3) + 1 {
				if fd.Kind() == protoreflect.MessageKind {
					v := l.NewElement()
					if depth < 3 {
						fill(rng, v.Message(), depth+1)
					}
					l.Append(v)
				} else {
					l.Append(value(rng, fd))
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			if depth < 3 {
				fill(rng, m.Mutable(fd).Message(), depth+1)
			}
		default:
			m.Set(fd, value(rng, fd))
		}
	}
}

var words = []string{"outil", "pétition", "участие", "参加", "πολίτης", "", "x", "données ouvertes", "🗳️"}

func value(rng *rand.Rand, fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(words[rng.IntN(len(words))] + words[rng.IntN(len(words))])
	case protoreflect.BytesKind:
		b := make([]byte, rng.IntN(80))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return protoreflect.ValueOfBytes(b)
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(rng.IntN(2) == 0)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(rng.IntN(8)))
	case protoreflect.Int32Kind:
		return protoreflect.ValueOfInt32(rng.Int32() - 1<<30)
	case protoreflect.Int64Kind:
		return protoreflect.ValueOfInt64(rng.Int64() - 1<<62)
	case protoreflect.Uint32Kind:
		return protoreflect.ValueOfUint32(rng.Uint32())
	case protoreflect.Uint64Kind:
		return protoreflect.ValueOfUint64(rng.Uint64())
	}
	panic("no random value for " + fd.Kind().String())
}

// mutate damages b one of the ways bytes from a peer can be wrong, or
// leaves it whole.
func mutate(rng *rand.Rand, b []byte) []byte {
	b = slices.Clone(b)
	if len(b) == 0 {
		return b
	}
	at := rng.IntN(len(b))
	switch rng.IntN(10) {
	case 0:
		return b
	case 1:
		b[at] ^= 1 << rng.IntN(8)
	case 2:
		b[at] = 0xff // never UTF-8
	case 3:
		b[at] = 0x80 // a continuation byte, or a varint that goes on
	case 4:
		return b[:at]
	case 5:
		return slices.Delete(b, at, at+1)
	case 6:
		return slices.Insert(b, at, byte(rng.Uint32()))
	case 7:
		end := min(len(b), at+rng.IntN(40))
		return slices.Insert(b, at, b[at:end]...)
	case 8:
		// A field whose number has bits above 32: the generated code
		// would keep the low ones, and take it for another field.
		tag := protowire.AppendVarint(nil, uint64(1<<32|rng.IntN(30)+1)<<3|uint64(protowire.BytesType))
		return protowire.AppendBytes(append(b, tag...), []byte("hors limites"))
	case 9:
		// A field the message may know, of a wire type it may not
		// expect: packed numbers, or a number where a string goes.
		num := protowire.Number(rng.IntN(30) + 1)
		switch rng.IntN(4) {
		case 0:
			return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), rng.Uint64())
		case 1:
			return protowire.AppendFixed32(protowire.AppendTag(b, num, protowire.Fixed32Type), rng.Uint32())
		case 2:
			return protowire.AppendFixed64(protowire.AppendTag(b, num, protowire.Fixed64Type), rng.Uint64())
		default:
			packed := protowire.AppendVarint(nil, rng.Uint64()>>rng.IntN(64))
			return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), packed[:rng.IntN(len(packed))+1])
		}
	}
	return b
}

// Both ways accept what proto.Unmarshal accepts, decoded the same, and
// refuse what it refuses, with its error.
func TestDecodesAsProtoDoes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 7))
	for _, kind := range generated() {
		fast, slow := 0, 0
		for range 4000 {
			m := kind.ProtoReflect().New()
			fill(rng, m, 0)
			whole, err := proto.Marshal(m.Interface())
			if err != nil {
				t.Fatal(err)
			}
			b := mutate(rng, whole)
			want := kind.ProtoReflect().New().Interface()
			wantErr := proto.Unmarshal(b, want)
			if wellFormed(b, planOf(kind.ProtoReflect().Descriptor()), 0) {
				fast++
			} else {
				slow++
			}
			for name, decode := range decoders {
				got := kind.ProtoReflect().New().Interface()
				fill(rng, got.ProtoReflect(), 2) // what a decode must reset
				err := decode(slices.Clone(b), got)
				switch {
				case (err == nil) != (wantErr == nil):
					t.Fatalf("%s of a %T (%x): error %v, proto.Unmarshal's %v", name, kind, b, err, wantErr)
				case err != nil && err.Error() != wantErr.Error():
					t.Fatalf("%s of a %T: error %q, proto.Unmarshal's %q", name, kind, err, wantErr)
				case err == nil && !proto.Equal(got, want):
					t.Fatalf("%s of a %T (%x) decoded\n%v\nnot as proto.Unmarshal does\n%v", name, kind, b, got, want)
				}
			}
		}
		// Most messages take the generated code, and enough do not for
		// the other way to be tried.
		if fast < 500 || slow < 500 {
			t.Errorf("%T: %d messages decoded by the generated code, %d by proto.Unmarshal", kind, fast, slow)
		}
	}
}

// The cases of the random test that matter most, by hand: a bad string
// deep inside, and a field number the generated code would misread.
func TestRefusesWhatProtoRefuses(t *testing.T) {
	tool := &catalogv1.Tool{DisplayName: "Decidim", Descriptions: map[string]*catalogv1.Description{
		"fr": {ShortDescription: "Participation", Features: []string{"pétitions", "budgets"}}}}
	b, err := proto.Marshal(tool)
	if err != nil {
		t.Fatal(err)
	}
	at := slices.Index(b, 'b') // in "budgets", a string of a map's value
	bad := slices.Clone(b)
	bad[at] = 0xff
	tag := protowire.AppendVarint(nil, uint64(1<<32|2)<<3|uint64(protowire.BytesType))
	misnumbered := protowire.AppendBytes(append(slices.Clone(b), tag...), []byte("Consul"))
	for name, decode := range decoders {
		if err := decode(bad, &catalogv1.Tool{}); err == nil {
			t.Errorf("%s took a feature that is not UTF-8", name)
		}
		var got catalogv1.Tool
		if err := decode(misnumbered, &got); err == nil && got.GetDisplayName() != "Decidim" {
			t.Errorf("%s read field 2^32+2 as the display name: %q", name, got.GetDisplayName())
		}
		if err := decode(b, &got); err != nil || !proto.Equal(&got, tool) {
			t.Errorf("%s: %v, %v", name, err, &got)
		}
	}
}

// Bytes the generated code takes otherwise than protobuf-go, which the
// walk must send to proto.Unmarshal (found by review; the random test
// reaches them seldom).
func TestCraftedAsProtoDoes(t *testing.T) {
	for _, c := range []struct{ name, hex string }{
		{"a packed varint past 64 bits", "4a0affffffffffffffffff7f"},
		{"a packed varint cut short, read on into seq", "4a018009a80105b001014803"},
		{"a map entry's value twice", "1a0e0a02667212030a01611203120162"},
		{"a map key of another wire type", "1a0408020a00"},
		{"a map entry without its value", "1a040a026672"},
		{"a map entry with its key twice", "1a0a0a0266720a02656e1200"},
		{"a string sent as a varint", "1005"},
		{"a packed field that is not repeated", "b2010101"},
	} {
		b, err := hex.DecodeString(c.hex)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var want catalogv1.Tool
		wantErr := proto.Unmarshal(b, &want)
		for name, decode := range decoders {
			var got catalogv1.Tool
			err := decode(b, &got)
			switch {
			case (err == nil) != (wantErr == nil):
				t.Errorf("%s, %s: error %v, proto.Unmarshal's %v", c.name, name, err, wantErr)
			case err == nil && !proto.Equal(&got, &want):
				t.Errorf("%s, %s: decoded %v, proto.Unmarshal %v", c.name, name, &got, &want)
			case err == nil && (got.GetDescriptions()["fr"] == nil) != (want.GetDescriptions()["fr"] == nil):
				t.Errorf("%s, %s: description fr %v, proto.Unmarshal's %v", c.name, name, got.GetDescriptions()["fr"], want.GetDescriptions()["fr"])
			}
		}
	}
}

// TestUnknownFieldOverlongTag: an unknown field whose tag is written in
// more bytes than it needs (e5 00: field 12, fixed32) is kept by
// proto.Unmarshal with its tag shortened (65), by the generated code as
// sent: the walk sends it to proto.Unmarshal (FuzzDecodesAsProtoDoes's
// finding).
func TestUnknownFieldOverlongTag(t *testing.T) {
	b := []byte("\xe5\x00" + "0000")
	for _, kind := range []proto.Message{&federationv1.Record{}, &federationv1.PullResponse{}} {
		want := kind.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(b, want); err != nil {
			t.Fatal(err)
		}
		for name, decode := range decoders {
			got := kind.ProtoReflect().New().Interface()
			if err := decode(append([]byte(nil), b...), got); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("%s of a %T: unknown fields %x, proto.Unmarshal's %x", name, kind, got.ProtoReflect().GetUnknown(), want.ProtoReflect().GetUnknown())
			}
		}
	}
}

// The aliasing way shares the buffer, and the copying one does not.
func TestAliasing(t *testing.T) {
	b, err := proto.Marshal(&federationv1.Record{Origin: "fr", Id: "decidim", Resource: []byte("resource")})
	if err != nil {
		t.Fatal(err)
	}
	var copied, aliased federationv1.Record
	if err := Unmarshal(b, &copied); err != nil {
		t.Fatal(err)
	}
	if err := UnmarshalAliasing(b, &aliased); err != nil {
		t.Fatal(err)
	}
	copy(b[len(b)-len("resource"):], "RESOURCE")
	if string(copied.GetResource()) != "resource" || string(aliased.GetResource()) != "RESOURCE" {
		t.Errorf("after the buffer changed, the copy holds %q and the alias %q", copied.GetResource(), aliased.GetResource())
	}
}

// BenchmarkDecode decodes a tool of a catalog entry's size (the
// replication benchmark's) and the record around it, with proto.Unmarshal
// and with the package's two ways.
func BenchmarkDecode(b *testing.B) {
	tool := &catalogv1.Tool{
		Name: "origins/fr/tools/tool-000042", Origin: "fr", Seq: 43,
		DisplayName: "Outil civique 42",
		Descriptions: map[string]*catalogv1.Description{
			"fr": {ShortDescription: "Plateforme de participation citoyenne numéro 42 pour les collectivités",
				LongDescription: "Consultations, pétitions, budgets participatifs et suivi des engagements du plan d'action national, avec des données ouvertes sur chaque étape.",
				Features:        []string{"pétitions en ligne", "budget participatif", "consultations publiques"}},
			"en": {ShortDescription: "Citizen participation platform number 42 for local governments",
				LongDescription: "Consultations, petitions, participatory budgets and follow-up of the national action plan's commitments, with open data on every step.",
				Features:        []string{"online petitions", "participatory budgeting", "public consultations"}},
		},
		RepositoryUrl: "https://git.example.org/civic/tool-42",
		License:       "AGPL-3.0-or-later",
		Categories:    []string{"collaboration", "e-government"},
		Platforms:     []string{"web"},
	}
	resource, err := proto.Marshal(tool)
	if err != nil {
		b.Fatal(err)
	}
	record, err := proto.Marshal(&federationv1.Record{Origin: "fr", Kind: federationv1.RecordKind_RECORD_KIND_TOOL, Id: "tool-000042", Seq: 43, Resource: resource})
	if err != nil {
		b.Fatal(err)
	}
	ways := map[string]func([]byte, proto.Message) error{"proto.Unmarshal": proto.Unmarshal, "Unmarshal": Unmarshal, "UnmarshalAliasing": UnmarshalAliasing}
	for _, m := range []struct {
		name string
		buf  []byte
		new  func() proto.Message
	}{
		{"tool", resource, func() proto.Message { return &catalogv1.Tool{} }},
		{"record", record, func() proto.Message { return &federationv1.Record{} }},
	} {
		for _, way := range []string{"proto.Unmarshal", "Unmarshal", "UnmarshalAliasing"} {
			b.Run(m.name+"/"+way, func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					if err := ways[way](m.buf, m.new()); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestInvalidString names the string that is not UTF-8 by its path, a
// map's by the map's name, and none in a message whose strings all are.
func TestInvalidString(t *testing.T) {
	const bad = "\x01\x02" // made 0xff 0xfe on the wire, which Marshal refuses to write
	for _, tc := range []struct {
		m    proto.Message
		want string
	}{
		{&catalogv1.Tool{DisplayName: "Decidim", LandingUrl: bad}, "landing_url"},
		{&catalogv1.Tool{Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "ok", Features: []string{"a", bad}}}}, "descriptions.features"},
		{&catalogv1.Tool{Descriptions: map[string]*catalogv1.Description{bad: {ShortDescription: "ok"}}}, "descriptions"},
		{&catalogv1.CreateToolRequest{Parent: "origins/fr", Tool: &catalogv1.Tool{Maintenance: &catalogv1.Maintenance{Contacts: []*catalogv1.Contact{{Name: bad}}}}}, "tool.maintenance.contacts.name"},
		{&catalogv1.Tool{DisplayName: "Décidim"}, ""},
	} {
		b, err := proto.Marshal(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte(bad), []byte{0xff, 0xfe})
		if got := InvalidString(b, tc.m); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.m, got, tc.want)
		}
	}
}
