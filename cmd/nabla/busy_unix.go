//go:build unix

package main

import (
	"os"
	"syscall"
	"time"
)

// readCPUTimes reads the machine's busy time from /proc/stat (Linux; on
// other systems there is none and the sample is not ok) and the process's
// and its children's from getrusage.
func readCPUTimes() cpuSample {
	s := cpuSample{wall: time.Now()}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	var self, children syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children) != nil {
		return s
	}
	s.busy, s.ok = parseProcStat(string(b))
	for _, r := range []syscall.Rusage{self, children} {
		s.self += time.Duration(syscall.TimevalToNsec(r.Utime) + syscall.TimevalToNsec(r.Stime)).Seconds()
	}
	return s
}
