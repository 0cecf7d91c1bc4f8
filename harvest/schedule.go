package harvest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/protobuf/proto"
)

// Scheduled is a harvest the node runs itself, every Interval, as its
// configuration file lists them:
//
//	harvests:
//	  - kind: sill
//	    location: https://code.gouv.fr/data/sill.json
//	    interval: 24h
//	    authoritative: true
type Scheduled struct {
	Source   `yaml:",inline"`
	Interval string `yaml:"interval"`
}

// minInterval keeps a misconfigured schedule from hammering a source, and
// maxInterval keeps its random delay (a tenth of it) within a duration:
// past about 266 years, the sum overflowed, and the source was harvested
// without a pause.
const (
	minInterval = time.Second
	maxInterval = 10 * 365 * 24 * time.Hour
)

// Check resolves the source and parses the interval. A source on this
// machine whose location is missing, and whose kind its name does not tell,
// is not an error when its name is not a file's (a folder, by its name):
// it is returned unresolved (no Kind), and Run resolves it at each of its
// runs, so that a node does not stay down for a share not mounted yet.
func (s Scheduled) Check() (Scheduled, time.Duration, error) {
	src, err := s.Source.Resolve()
	var missing missingError
	switch {
	case errors.As(err, &missing) && missing.kindUntold:
		// A file whose name does not tell its kind would not be
		// harvested once there either, and the next start would refuse
		// the configuration: it needs its kind now.
		return s, 0, err
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return s, 0, err
	default:
		s.Source = src
	}
	if s.Interval == "" {
		return s, 0, fmt.Errorf("harvest of %s: no interval (such as 24h)", WithoutSecrets(s.Location))
	}
	every, err := time.ParseDuration(s.Interval)
	if err != nil {
		return s, 0, fmt.Errorf("harvest of %s: interval %q: %w", WithoutSecrets(s.Location), s.Interval, err)
	}
	if every < minInterval {
		return s, 0, fmt.Errorf("harvest of %s: interval %s is shorter than %s", WithoutSecrets(s.Location), every, minInterval)
	}
	if every > maxInterval {
		return s, 0, fmt.Errorf("harvest of %s: interval %s is longer than ten years (%s)", WithoutSecrets(s.Location), every, maxInterval)
	}
	return s, every, nil
}

// CheckSchedule checks each scheduled harvest (Check), and that no two
// have one name: a source's name keys its entries, so two sources of one
// name would each delete the tools of the other at every run, and make
// them again under new ids, over and over.
func CheckSchedule(schedule []Scheduled) ([]Scheduled, []time.Duration, error) {
	checked := make([]Scheduled, len(schedule))
	every := make([]time.Duration, len(schedule))
	named := map[string]int{}
	unnamedAt := map[string]int{} // by location, those given no name
	for i, s := range schedule {
		c, d, err := s.Check()
		if err != nil {
			return nil, nil, fmt.Errorf("harvests[%d]: %w", i, err)
		}
		if c.Name != "" { // empty: not there yet, and its kind not told (see Check)
			if j, dup := named[c.Name]; dup {
				return nil, nil, fmt.Errorf("harvests[%d] and harvests[%d] are both named %q: give each source a name of its own", j, i, WithoutSecrets(c.Name))
			}
			named[c.Name] = i
		}
		// Two of one location, given no name, take one once it is there
		// (KIND:LOCATION, its kind told or found): refused now, rather
		// than harvested twice, and refused at the next start.
		if s.Name == "" {
			at := s.Location
			if isLocalPath(at) { // share, share/ and ./share are one
				if abs, err := filepath.Abs(at); err == nil {
					at = abs
				}
			}
			if j, dup := unnamedAt[at]; dup {
				return nil, nil, fmt.Errorf("harvests[%d] and harvests[%d] both harvest %s: give each source a name of its own, or list it once", j, i, WithoutSecrets(s.Location))
			}
			unnamedAt[at] = i
		}
		checked[i], every[i] = c, d
	}
	return checked, every, nil
}

// Run harvests each scheduled source once at start, unless its last run
// went well less than an interval ago (it then waits until it is due),
// then every interval (with up to a tenth of it of random delay, so that
// many nodes do not fetch a shared source at the same instant), until ctx
// ends. A failed run
// is reported like any other and retried at the next interval. A source
// Check left unresolved is resolved at each run; while it cannot be, the
// run is an error in the log, not a report, as the source has no name
// yet (its kind is part of it).
func Run(ctx context.Context, schedule []Scheduled, im *Importer, opts ReadOptions, log *slog.Logger) error {
	type job struct {
		Scheduled
		every time.Duration
	}
	checked, every, err := CheckSchedule(schedule)
	if err != nil {
		return err
	}
	if opts.Reads == nil {
		opts.Reads = NewLocalReads()
	}
	jobs := make([]job, 0, len(schedule))
	for i, s := range checked {
		jobs = append(jobs, job{s, every[i]})
	}
	done := make(chan struct{})
	for _, j := range jobs {
		go func() {
			defer func() { done <- struct{}{} }()
			var said string // the problem of the source's last run, as logged
			if wait := im.dueIn(ctx, j.Scheduled, j.every); wait > 0 {
				// Restarted within an interval of a run that went well:
				// the source is not fetched again before it is due (a
				// restart to change the configuration, a crash loop).
				log.Info("scheduled harvest waits until it is due, an interval after its last run", "source", j.Name, "next_run", time.Now().Add(wait).Round(time.Second))
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			for {
				// While the node's writes are held (a catalog restored from
				// a backup, which fails them until a member answers), a run
				// would fail, and wait an interval for the next.
				select {
				case <-im.store.OwnWritesDecided():
				default:
					log.Info("scheduled harvest waits until the node's writes go ahead", "location", WithoutSecrets(j.Location))
					select {
					case <-im.store.OwnWritesDecided():
					case <-ctx.Done():
						return
					}
				}
				if src, err := j.Source.Resolve(); err != nil {
					log.Error("scheduled harvest not run; tried again at the next interval (a source given its kind has such runs reported)",
						"location", WithoutSecrets(j.Location), "err", WithoutSecrets(err.Error()))
				} else if run, err := im.Import(ctx, Read(ctx, src, opts)); err != nil && ctx.Err() == nil {
					log.Error("scheduled harvest failed", "source", src.Name, "err", err)
				} else if err == nil {
					said = sayProblem(log, src.Name, run, said)
				}
				wait := j.every + rand.N(j.every/10+1)
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}()
	}
	for range jobs {
		<-done
	}
	return nil
}

// sayProblem logs, as a warning, the problem of a scheduled source's run
// (a read that failed: a 404, a host unreachable; a broken export) when it
// is not the one said before, and that the source is harvested in full
// again when it is over, and returns the problem said. A source that fails
// at every run is said once, not at every interval, and not only in the
// report, where an operator who reads the log at warn level never looked.
func sayProblem(log *slog.Logger, source string, run *catalogv1.HarvestRun, said string) string {
	problem := run.GetError()
	if !run.GetComplete() && problem == "" {
		problem = "the source was not read completely"
	}
	switch {
	case problemKind(problem) == problemKind(said):
	case problem == "":
		log.Info("scheduled harvest complete again", "source", source)
	case run.GetComplete():
		log.Warn("scheduled harvest ended with a warning (said again when it changes)", "source", source, "warning", problem)
	default:
		log.Warn("scheduled harvest incomplete: no tool of the source deleted (said again when it changes)", "source", source, "err", problem)
	}
	return problem
}

// problemKind is a run's problem without what differs from one run to the
// next of one fault: the local address of a connection (an ephemeral
// port: "read tcp 127.0.0.1:53762->..."), a duration curl gives git
// ("after 30001 ms"). A source failing alike at every run was said at
// every run.
func problemKind(problem string) string {
	return problemVariables().ReplaceAllString(problem, "")
}

func problemVariables() *regexp.Regexp {
	return regexp.MustCompile(`(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.%]+\]):\d+->|after \d+ ms`)
}

// dueIn is how long s, harvested every interval, is not due yet: the rest
// of an interval after its last run, when that run read it completely and
// without a warning, as it is configured now; 0 for a source never
// harvested, whose last run did not go well or was made under another
// configuration (a mapping of columns corrected, a source made
// authoritative: the operator restarts the node for it to apply), or not
// resolved yet (it has no name).
func (im *Importer) dueIn(ctx context.Context, s Scheduled, every time.Duration) time.Duration {
	if s.Name == "" {
		return 0
	}
	runs, err := im.store.HarvestRuns(ctx, s.Name, 1)
	if err != nil || len(runs) == 0 || !runs[0].GetComplete() || runs[0].GetError() != "" {
		return 0
	}
	now := s.Proto()
	if len(runs[0].GetSource().GetColumns()) == 0 {
		now.Columns = nil // a report of an earlier version, which kept none
	}
	if !proto.Equal(runs[0].GetSource(), now) {
		return 0
	}
	since := im.now().Sub(runs[0].GetEndTime().AsTime())
	return min(max(every-since, 0), every) // a clock set back waits an interval at most
}
