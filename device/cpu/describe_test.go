package cpu

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

func TestDescribeCPU(t *testing.T) {
	info, err := device.Describe(device.CPU())
	require.NoError(t, err)
	require.Positive(t, info.Cores)
	require.Contains(t, info.String(), "cpu")
	require.Equal(t, []device.Device{device.CPU()}[0], device.List()[0])
}
