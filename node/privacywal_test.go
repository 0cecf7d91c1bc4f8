package node

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDeletedContactGoneFromTheLogWhileRunning: a curator deletes a tool
// whose maintenance names a person. Once the delete is in catalog.db
// (checkpointed), the running node's data folder, what a kill -9 or a
// power cut leaves on disk, or a file-level backup copies, must not hold
// the e-mail address either: the write-ahead log keeps the page images of
// earlier commits until later ones overwrite them.
func TestDeletedContactGoneFromTheLogWhileRunning(t *testing.T) {
	for what, quick := range map[string]bool{"deleted after a checkpoint": false, "deleted before one": true} {
		t.Run(what, func(t *testing.T) {
			cfg := testConfig(t)
			n, _ := startStoppable(t, cfg, io.Discard)
			if code, out := n.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=bilancio", testToken, contactTool); code != 200 {
				t.Fatalf("create: %d %v", code, out)
			}
			if !quick {
				awaitInCatalogFile(t, cfg.DataDir, "dario.bianchi@fornitore.it")
			}
			if code, out := n.doJSON(t, "DELETE", "/v1/origins/fr/tools/bilancio", testToken, ""); code != 200 {
				t.Fatalf("delete: %d %v", code, out)
			}
			// The delete checkpointed: the tombstone's seq is in catalog.db
			// and the address is not.
			deadline := time.Now().Add(10 * time.Second)
			for {
				b, _ := os.ReadFile(filepath.Join(cfg.DataDir, "catalog.db"))
				if !bytes.Contains(b, []byte("dario.bianchi@fornitore.it")) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the delete never reached catalog.db")
				}
				time.Sleep(20 * time.Millisecond)
			}
			// The log cut to nothing (see storage's checkpointer.erased).
			for _, pd := range []string{"dario.bianchi@fornitore.it", "+391624231322"} {
				deadline := time.Now().Add(30 * time.Second)
				for files := filesHolding(t, cfg.DataDir, pd); len(files) > 0; files = filesHolding(t, cfg.DataDir, pd) {
					if time.Now().After(deadline) {
						t.Fatalf("%s, checkpointed, the node running: %q is still in %v of the data folder (what kill -9 leaves)", what, pd, files)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
}
