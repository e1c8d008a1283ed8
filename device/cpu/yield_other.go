//go:build !linux

package cpu

// osYield is sched_yield on Linux (see yield_linux.go); elsewhere polling
// yields to the program's goroutines only.
func osYield() {}
