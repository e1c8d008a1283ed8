package cuda

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// TestMemcheckThroughBackend: a kernel launched over more elements than
// its buffers hold fails on the PTX virtual machine, and the failure
// reaches the caller through the backend's asynchronous error path (the
// next Synchronize), naming the kernel, thread, PTX line and address.
// Afterwards the device works again.
func TestMemcheckThroughBackend(t *testing.T) {
	b := testBackend(t)
	if !b.Emulated() {
		t.Skip("a deliberate out-of-bounds launch: only on the PTX virtual machine")
	}
	const n = 1000
	small, err := b.Alloc(device.Float32, 10)
	require.NoError(t, err)
	big, err := b.Alloc(device.Float32, n)
	require.NoError(t, err)
	it, err := makeIter([]int{n}, device.Contiguous(n), device.Contiguous(n))
	require.NoError(t, err)
	sc := newScalars(0, 0)
	a := getArgs()
	packUnary(a, big.(*buffer).ptr(), small.(*buffer).ptr(), &it, &sc)
	require.NoError(t, b.launch1(modUnary, unaryKernel(device.Neg, device.Float32), n, a), "the launch itself is valid")
	err = b.Synchronize()
	require.Error(t, err)
	t.Log(err)
	require.Contains(t, err.Error(), "memcheck: kernel neg_f32")
	require.Contains(t, err.Error(), "invalid global read")
	require.Contains(t, err.Error(), "PTX line")

	require.NoError(t, b.Unary(device.Neg, view(big, n), view(big, n), 0, 0))
	require.NoError(t, b.Synchronize())
}
