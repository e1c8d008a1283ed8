// Package device names the places tensors live (the CPU, CUDA GPUs) and
// defines the Backend interface through which every tensor operation is
// dispatched.
//
// A backend owns memory (opaque Buffers) and runs a small, closed set of
// primitive operations on strided views of that memory. Elementwise
// operations are selected by an op code rather than by a method each, so a
// new activation function adds a constant here and a case in each backend,
// not a method to the interface. Layouts (shape, strides, offset) travel with
// every call, which lets a backend read transposed, broadcast and sliced
// operands without copies.
//
// The pure-Go CPU backend lives in this package and is always available.
// On amd64 its kernels flush subnormal floats to zero, as PyTorch does
// after torch.set_flush_denormal(True) (SetFlushSubnormals turns that off).
// The CUDA backend lives in package device/cuda behind the "cuda" build tag
// and registers itself here when linked in.
package device
