package device

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1073741824", 1 << 30, true},
		{"8GiB", 8 << 30, true},
		{"8G", 8 << 30, true},
		{"8gib", 8 << 30, true},
		{"1.5 GiB", 3 << 29, true},
		{"512MiB", 512 << 20, true},
		{"500MB", 500e6, true},
		{"2TB", 2e12, true},
		{"7B", 7, true},
		{"unlimited", -1, true},
		{"0", 0, true},
		{"", 0, false},
		{"lots", 0, false},
		{"-1G", 0, false},
		{"8 parsecs", 0, false},
		{"NaN", 0, false},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseBytes(c.in)
			if !c.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

// TestCPUMemoryEnv reads the limit from NABLA_CPU_MEMORY as a new process
// would (the process-wide value is computed once, at the first
// allocation).
func TestCPUMemoryEnv(t *testing.T) {
	t.Setenv(CPUMemoryEnv, "64MiB")
	l, err := loadCPULimit()
	require.NoError(t, err)
	require.Equal(t, int64(64<<20), l.bytes)
	require.Contains(t, l.source, "NABLA_CPU_MEMORY=64MiB")

	t.Setenv(CPUMemoryEnv, "sixty-four")
	_, err = loadCPULimit()
	require.ErrorContains(t, err, "NABLA_CPU_MEMORY")
	require.ErrorContains(t, err, "not a size")
}

func TestPhysicalMemoryIsTheDefault(t *testing.T) {
	n, source := physicalMemory()
	if n == 0 {
		t.Skip("the machine's memory is unknown on this platform")
	}
	require.Greater(t, n, int64(1<<20))
	require.NotEmpty(t, source)
}

func TestCPUAllocationLimit(t *testing.T) {
	defer SetCPUMemoryLimit(SetCPUMemoryLimit(1 << 20))
	cpu := newCPU()
	_, err := cpu.Alloc(Float32, 1<<18) // exactly 1 MiB
	require.NoError(t, err)
	_, err = cpu.Alloc(Float32, 1<<18+1)
	var me *MemoryError
	require.True(t, errors.As(err, &me), "%v", err)
	require.ErrorIs(t, err, ErrOutOfMemory)
	require.Equal(t, int64(4<<18+4), me.Bytes)
	require.Equal(t, int64(1<<20), me.Limit)
	require.Contains(t, err.Error(), "1048580 bytes")
	require.Contains(t, err.Error(), "SetCPUMemoryLimit")

	// A negative limit is none: the request is tried (and small).
	SetCPUMemoryLimit(-1)
	_, err = cpu.Alloc(Float32, 1<<18+1)
	require.NoError(t, err)

	// Sizes that overflow are refused whatever the limit.
	_, err = cpu.Alloc(Float64, 1<<62)
	require.ErrorIs(t, err, ErrSize)
}
