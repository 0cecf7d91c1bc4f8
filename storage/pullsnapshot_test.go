package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
)

// TestLogStartsOverWhileAPullIsStalled: a pull whose caller takes no page
// (a member gone silent: gRPC's Send blocks, for up to a minute before the
// server ends the pull) holds no snapshot of the catalog meanwhile: the
// log starts over as the node writes, where a snapshot held for the pull
// kept it from starting over, and a checkpoint that waited for it held
// the node's writes a second at each turn. Also with a pull of many
// origins, a page each, the state a federation's pulls are in.
func TestLogStartsOverWhileAPullIsStalled(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.db")
	s, err := Open(ctx, Options{Path: path, Origin: "fr", Key: testKey(1),
		checkpoints: checkpointTimings{interval: 5 * time.Millisecond, startOver: 64 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	asked := map[string]int64{"fr": 0}
	for i := range 4 { // origins of a few records each
		origin := fmt.Sprintf("o%c", 'a'+i)
		peer := openAt(t, filepath.Join(dir, origin+".db"), origin, testKey(byte(10+i)))
		if _, err := peer.Apply(ctx, numberedCreates(3)); err != nil {
			t.Fatal(err)
		}
		pull(t, peer, s, 0)
		peer.Close()
		asked[origin] = 0
	}
	batch := func(b int) []Write {
		var ws []Write
		for j := range 20 {
			ws = append(ws, Write{Op: OpCreate, ID: fmt.Sprintf("t%d-%d", b, j),
				Resource: tool(fmt.Sprintf("Tool %d %d", b, j), "A tool for participation in public decisions, with a description long enough to fill pages")})
		}
		return ws
	}
	next := 0 // the next batch
	if _, err := s.Apply(ctx, batch(next)); err != nil {
		t.Fatal(err)
	}
	next++
	for name, spec := range map[string]PullSpec{
		"a pull of pages of one origin": {Watermarks: map[string]int64{"fr": 0}, MaxPageBytes: 4 << 10},
		"a pull of many origins":        {Watermarks: asked},
	} {
		stalled, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		wg.Go(func() {
			s.ReadPages(ctx, spec, func(*federationv1.OriginPage) error {
				once.Do(func() { close(stalled) })
				<-release // the caller reads nothing
				return nil
			})
		})
		<-stalled
		before := logRestarts(t, path+"-wal")
		for writes := 0; logRestarts(t, path+"-wal") == before; writes++ {
			if writes > 2000 {
				t.Fatalf("%s, stalled: the log never started over in %d writes", name, writes)
			}
			if _, err := s.Apply(ctx, batch(next)); err != nil {
				t.Fatal(err)
			}
			next++
		}
		close(release)
		wg.Wait()
	}
}
