//go:build unix

// Package cputime reads the CPU time the process has used, for the
// benchmarks: they report CPU per record beside wall time, a figure that
// moves less than wall time when the machine's speed drifts or its disk
// makes a writer wait.
package cputime

import (
	"syscall"
	"time"
)

// Process is the CPU time the process has used, user and system.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
