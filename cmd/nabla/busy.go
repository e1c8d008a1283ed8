package main

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// A benchmark timed while other processes use the CPUs is slow, and its
// ratios to PyTorch (timed at another moment) are noise: 42x one way or
// the other. bench measures how much CPU time the rest of the machine used
// while it ran and warns when that was much.

// cpuSample is a reading of the CPU time used so far: by the whole machine
// (busy: every CPU's non-idle time) and by this process and the children
// it has waited for (PyTorch's script), in seconds, at wall.
type cpuSample struct {
	wall       time.Time
	busy, self float64
	ok         bool // false where the machine's CPU time cannot be read
}

// readCPU reads the CPU times now; tests replace it.
var readCPU = readCPUTimes

// userHZ is the unit of /proc/stat's times (USER_HZ, 100 on Linux).
const userHZ = 100

// parseProcStat returns the seconds every CPU spent busy (not idle nor
// waiting for I/O) from the "cpu" line of /proc/stat.
func parseProcStat(stat string) (float64, bool) {
	line, _, _ := strings.Cut(stat, "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, false
	}
	// user nice system idle iowait irq softirq steal (guest time is
	// counted in user already)
	var busy float64
	for i, f := range fields[1:min(len(fields), 9)] {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return 0, false
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy / userHZ, true
}

// busyWarning returns a warning when, between from and to, other
// processes kept at least a quarter of the CPUs (and at least half of
// one) busy on average, and "" otherwise.
func busyWarning(from, to cpuSample, cpus int) string {
	wall := to.wall.Sub(from.wall).Seconds()
	if !from.ok || !to.ok || wall <= 0 {
		return ""
	}
	others := ((to.busy - from.busy) - (to.self - from.self)) / wall
	if others < max(0.5, float64(cpus)/4) {
		return ""
	}
	return fmt.Sprintf("warning: the machine was busy: other processes kept %.1f of its %d CPUs busy on average while this ran, "+
		"so the times are slower than they should be and the nabla/PyTorch ratios unreliable (the two were timed at different moments); "+
		"rerun on an idle machine", min(others, float64(cpus)), cpus)
}

// machineCPUs is the number of CPUs the machine's CPU time is shared by.
func machineCPUs() int { return runtime.NumCPU() }
