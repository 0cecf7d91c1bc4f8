package storage

import (
	"testing"

	"github.com/ogptoolbox/federation/envelope"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/search"
	"google.golang.org/protobuf/proto"
)

// BenchmarkWriteStages times, one tool at a time, the stages of the write
// path that are not SQLite: building the search document, analyzing it,
// marshalling, signing, and putting it in the index. BenchmarkBatchedCreates
// times them together; this says where the time goes.
func BenchmarkWriteStages(b *testing.B) {
	g := newSynth(3)
	tools := make([]proto.Message, 1000)
	for i := range tools {
		tools[i] = g.tool()
	}
	b.Run("toolDoc", func(b *testing.B) {
		for i := range b.N {
			searchDoc("fr", tools[i%1000])
		}
	})
	b.Run("analyze", func(b *testing.B) {
		ix := search.New(fieldWeights())
		for i := range b.N {
			ix.Analyze(searchDoc("fr", tools[i%1000]))
		}
	})
	b.Run("marshal", func(b *testing.B) {
		for i := range b.N {
			proto.MarshalOptions{Deterministic: true}.Marshal(tools[i%1000])
		}
	})
	res, _ := proto.Marshal(tools[0])
	b.Run("seal", func(b *testing.B) {
		for range b.N {
			envelope.Seal(&federationv1.Record{Origin: "fr", Id: "x", Seq: 1, Resource: res}, testKey(1))
		}
	})
	b.Run("put", func(b *testing.B) {
		ix := search.New(fieldWeights())
		as := make([]search.Analyzed, 1000)
		for i := range as {
			as[i] = ix.Analyze(searchDoc("fr", tools[i]))
		}
		b.ResetTimer()
		for i := range b.N {
			ix.Put(int64(i), as[i%1000])
		}
	})
}
