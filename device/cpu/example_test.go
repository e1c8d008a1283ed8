package cpu_test

import (
	"fmt"

	"github.com/nabla-go/nabla/device/cpu"
	"github.com/nabla-go/nabla/tensor"
)

// A request larger than the limit fails with an error that names the op,
// the shape and the bytes, instead of ending the process with Go's fatal
// out-of-memory error; NABLA_CPU_MEMORY sets the same limit from outside.
func ExampleSetMemoryLimit() {
	prev := cpu.SetMemoryLimit(1 << 20) // 1 MiB
	defer cpu.SetMemoryLimit(prev)

	err := tensor.Catch(func() { tensor.Zeros(1024, 1024) }) // 4 MiB of float32
	fmt.Println(err)
	// Output: tensor: Zeros: a tensor of shape [1024 1024] and dtype float32 needs 4194304 bytes (4 MiB), more than the 1048576 bytes (1 MiB) that cpu may allocate (set by cpu.SetMemoryLimit)
}

// Flushing subnormal floats to zero is on by default, as after PyTorch's
// torch.set_flush_denormal(True); turning it off restores IEEE gradual
// underflow in the CPU kernels.
func ExampleSetFlushSubnormals() {
	prev := cpu.SetFlushSubnormals(false)
	defer cpu.SetFlushSubnormals(prev)

	x := tensor.FromSlice([]float32{1e-20})
	fmt.Println(x.Mul(x).Float32s()[0] != 0)
	// Output: true
}
