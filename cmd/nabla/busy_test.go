package main

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseProcStat(t *testing.T) {
	cases := []struct {
		name, stat string
		busy       float64
		ok         bool
	}{
		{"linux", "cpu  100 20 30 1000 50 5 5 10 0 0\ncpu0 50 10 15 500 25 2 3 5 0 0\n", (100 + 20 + 30 + 5 + 5 + 10) / 100.0, true},
		{"old kernel, four fields", "cpu  100 20 30 1000\n", 1.5, true},
		{"not /proc/stat", "intr 1 2 3\n", 0, false},
		{"garbage", "cpu  a b c d e\n", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			busy, ok := parseProcStat(tc.stat)
			require.Equal(t, tc.ok, ok)
			require.InDelta(t, tc.busy, busy, 1e-9)
		})
	}
	if runtime.GOOS == "linux" {
		s := readCPUTimes()
		require.True(t, s.ok, "/proc/stat and getrusage are readable on Linux")
		require.Greater(t, s.self, 0.0)
		require.GreaterOrEqual(t, s.busy, s.self)
	}
}

func TestBusyWarning(t *testing.T) {
	t0 := time.Now()
	at := func(sec, busy, self float64) cpuSample {
		return cpuSample{wall: t0.Add(time.Duration(sec * float64(time.Second))), busy: busy, self: self, ok: true}
	}
	cases := []struct {
		name     string
		from, to cpuSample
		cpus     int
		want     string
	}{
		{"idle but for us", at(0, 100, 1), at(10, 119, 20), 2, ""},
		{"a little noise", at(0, 100, 1), at(10, 123, 20), 2, ""},
		{"another job on one CPU of two", at(0, 100, 1), at(10, 129, 20), 2, "other processes kept 1.0 of its 2 CPUs busy"},
		{"five other jobs on two CPUs", at(0, 100, 1), at(10, 118, 1.2), 2, "other processes kept 1.8 of its 2 CPUs busy"},
		{"one busy CPU of 16", at(0, 100, 1), at(10, 210, 100), 16, ""},
		{"eight busy CPUs of 16", at(0, 100, 1), at(10, 260, 80), 16, "other processes kept 8.1 of its 16 CPUs busy"},
		{"unknown", cpuSample{wall: t0}, cpuSample{wall: t0.Add(time.Second)}, 2, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := busyWarning(tc.from, tc.to, tc.cpus)
			if tc.want == "" {
				require.Empty(t, got)
				return
			}
			require.Contains(t, got, "warning: the machine was busy: "+tc.want)
			require.Contains(t, got, "the nabla/PyTorch ratios unreliable")
		})
	}
}

// TestBenchWarnsWhenBusy runs bench -quick with a fake clock of CPU time
// in which other processes keep every CPU busy, then one in which they
// keep none.
func TestBenchWarnsWhenBusy(t *testing.T) {
	smallTrainBench(t, 40)
	old := readCPU
	t.Cleanup(func() { readCPU = old })
	for _, busy := range []bool{true, false} {
		calls := 0.0
		readCPU = func() cpuSample {
			calls++
			s := cpuSample{wall: time.Unix(0, 0).Add(time.Duration(calls) * time.Second), ok: true}
			if busy {
				s.busy = calls * float64(machineCPUs())
			}
			return s
		}
		code, stdout, stderr := runCLI("bench", "-quick", "-torch=false", "-mintime", "1ms")
		require.Equal(t, 0, code, stderr)
		if busy {
			require.Regexp(t, `warning: the machine was busy: other processes kept \d+\.\d of its \d+ CPUs busy on average while this ran`+
				`.*\n *workload +nabla ms`, stdout, "the warning comes right above the table")
			require.Regexp(t, `warning: the machine was busy[^\n]*\n +model +batch`, stdout, "and above the training table")
		} else {
			require.NotContains(t, stdout, "warning")
		}
	}
}
