package storage

import (
	"testing"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/qualify"
	"github.com/ogptoolbox/federation/search"
	"google.golang.org/protobuf/proto"
)

// BenchmarkWriteStages times, one tool at a time, the stages of the write
// path that are not SQLite: building the search document, analyzing it,
// marshalling, signing, and putting it in the index, alone and in batches. BenchmarkBatchedCreates
// times them together; this says where the time goes.
func BenchmarkWriteStages(b *testing.B) {
	g := newSynth(3)
	tools := make([]*catalogv1.Tool, 1000)
	for i := range tools {
		tools[i] = g.tool()
	}
	var qr qualify.Qualifier
	searchDoc := func(origin string, t *catalogv1.Tool) search.Doc { return toolDoc(origin, t, &qr) }
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
	// The tools analyzed by a new index, for the puts.
	analyzed := func() (*search.Index, []search.Analyzed) {
		ix := search.New(fieldWeights())
		as := make([]search.Analyzed, len(tools))
		for i := range as {
			as[i] = ix.Analyze(searchDoc("fr", tools[i]))
		}
		return ix, as
	}
	b.Run("put", func(b *testing.B) {
		ix, as := analyzed()
		b.ResetTimer()
		for i := range b.N {
			ix.Put(int64(i), as[i%len(as)])
		}
	})
	// As the write path puts them: a batch at a time.
	b.Run("put-batched", func(b *testing.B) {
		ix, as := analyzed()
		b.ResetTimer()
		for i := 0; i < b.N; i += benchBatch {
			puts := make([]search.Put, min(benchBatch, b.N-i))
			for j := range puts {
				puts[j] = search.Put{ID: int64(i + j), Doc: as[(i+j)%len(as)]}
			}
			ix.Update(puts, nil)
		}
	})
}
