package cpu

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// TestCPUMemoryEnv reads the limit from NABLA_CPU_MEMORY as a new process
// would (the process-wide value is computed once, at the first
// allocation).
func TestCPUMemoryEnv(t *testing.T) {
	t.Setenv(MemoryEnv, "64MiB")
	l, err := loadCPULimit()
	require.NoError(t, err)
	require.Equal(t, int64(64<<20), l.bytes)
	require.Contains(t, l.source, "NABLA_CPU_MEMORY=64MiB")

	t.Setenv(MemoryEnv, "sixty-four")
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
	defer SetMemoryLimit(SetMemoryLimit(1 << 20))
	cpu := newCPU()
	_, err := cpu.Alloc(device.Float32, 1<<18) // exactly 1 MiB
	require.NoError(t, err)
	_, err = cpu.Alloc(device.Float32, 1<<18+1)
	var me *device.MemoryError
	require.True(t, errors.As(err, &me), "%v", err)
	require.ErrorIs(t, err, device.ErrOutOfMemory)
	require.Equal(t, int64(4<<18+4), me.Bytes)
	require.Equal(t, int64(1<<20), me.Limit)
	require.Contains(t, err.Error(), "1048580 bytes")
	require.Contains(t, err.Error(), "cpu.SetMemoryLimit")

	// A negative limit is none: the request is tried (and small).
	SetMemoryLimit(-1)
	_, err = cpu.Alloc(device.Float32, 1<<18+1)
	require.NoError(t, err)

	// Sizes that overflow are refused whatever the limit.
	_, err = cpu.Alloc(device.Float64, 1<<62)
	require.ErrorIs(t, err, device.ErrSize)
}
