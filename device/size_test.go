package device_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

func TestCheckedNumel(t *testing.T) {
	for _, c := range []struct {
		name  string
		shape []int
		want  int
		ok    bool
	}{
		{"scalar", nil, 1, true},
		{"matrix", []int{3, 4}, 12, true},
		{"empty", []int{0, 5}, 0, true},
		{"largest", []int{math.MaxInt}, math.MaxInt, true},
		{"2^32 x 2^32 wraps to 0", []int{1 << 32, 1 << 32}, 0, false},
		{"2^62 x 4 wraps to 0", []int{1 << 62, 4}, 0, false},
		// No elements, but the row-major stride of the first dimension,
		// 2^124, does not fit.
		{"empty with huge dimensions", []int{0, 1 << 62, 1 << 62}, 0, false},
		{"negative", []int{2, -1}, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := device.CheckedNumel(c.shape)
			if !c.ok {
				require.ErrorIs(t, err, device.ErrSize)
				if c.name == "empty with huge dimensions" {
					require.Zero(t, device.Numel(c.shape)) // the product itself is representable
					return
				}
				// Numel refuses to wrap around too, with an error value.
				perr, ok := panicValue(func() { device.Numel(c.shape) }).(error)
				require.True(t, ok, "Numel(%v) must panic with an error", c.shape)
				require.ErrorIs(t, perr, device.ErrSize)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, n)
			require.Equal(t, c.want, device.Numel(c.shape))
		})
	}
}

// panicValue runs f and returns what it panicked with, or nil.
func panicValue(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

func TestByteSize(t *testing.T) {
	n, err := device.ByteSize(device.Float64, 1<<20)
	require.NoError(t, err)
	require.Equal(t, 8<<20, n)
	_, err = device.ByteSize(device.Float64, math.MaxInt/4)
	require.ErrorIs(t, err, device.ErrSize)
	_, err = device.ByteSize(device.Float32, -1)
	require.ErrorIs(t, err, device.ErrSize)
}
