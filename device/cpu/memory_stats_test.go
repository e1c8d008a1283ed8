package cpu

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

func TestMemoryStatsOnTheCPU(t *testing.T) {
	_, err := device.Memory(device.CPU())
	require.ErrorIs(t, err, device.ErrNoMemoryStats)
	require.ErrorIs(t, device.ResetPeakMemory(device.CPU()), device.ErrNoMemoryStats)
}
