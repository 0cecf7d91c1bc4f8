package sync

import (
	"crypto/ed25519"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ogptoolbox/federation/internal/lockedbuf"
)

// TestRefusalSaidAfterTheClockWentBack: the errors NotifyAlive says at
// most every ten minutes (a member refused for its key, for metadata it
// does not sign, a member taken at another address) are throttled by the
// wall clock. When the node last said one while its clock was an hour
// ahead (a clock stepped back by NTP at boot, an RTC kept in local time),
// the next is silenced for that hour and ten minutes, not ten minutes.
// The last time said being in the future can only mean the clock went
// back: the error is due.
func TestRefusalSaidAfterTheClockWentBack(t *testing.T) {
	var logs lockedbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour, log: log,
		trusted: map[string]ed25519.PublicKey{"fr": nodeKey("fr").Public().(ed25519.PublicKey)}})[0].repl
	// Said last when the clock read an hour later than it reads now.
	r.keyRefusedLogged.Store(time.Now().Add(time.Hour).UnixNano())
	good := meta{Origin: "fr", GRPCAddr: "127.0.0.1:7400", Protocol: ProtocolVersion}
	if err := (delegate{r}).NotifyAlive(signedMember(t, good, nodeKey("not fr"))); err == nil {
		t.Fatal("a member of fr with another key than the trusted one taken")
	}
	if !strings.Contains(logs.String(), "refusing a member: its origin is pinned, or trusted, with another key") {
		t.Errorf("a member refused for its key, the clock set back an hour since the last such error: nothing said (silent for %v more):\n%s",
			time.Until(time.Unix(0, r.keyRefusedLogged.Load()).Add(ownOriginRefusedLogEvery)).Round(time.Minute), logs.String())
	}
}
