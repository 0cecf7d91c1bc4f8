//go:build unix

package storage

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used, user and system: the
// benchmarks report CPU per record beside wall time, a figure that moves
// less than wall time when the machine's speed drifts.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
