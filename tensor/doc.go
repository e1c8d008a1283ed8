// Package tensor provides n-dimensional arrays with shapes, strides, dtypes
// and devices, in the mould of PyTorch's torch.Tensor.
//
// A Tensor is a strided view of a buffer owned by a device backend (see
// package device). Views (Reshape, Transpose, Narrow, Expand, ...) share the
// buffer and copy nothing; operations allocate their results on the device
// of their operands. Binary operations broadcast like NumPy.
//
// Device rules: every tensor lives on one device; an operation on tensors
// from different devices panics with an error that says how to move one
// (To, CPU); nothing moves implicitly. Reading numbers into Go memory
// (Float32s and friends) needs a CPU tensor; Item works anywhere.
//
// Errors: misuse (shapes that do not broadcast, mixed devices or dtypes)
// panics with a *Error wrapping a sentinel such as ErrShape; Catch turns
// such a panic into an ordinary error for callers that must not crash.
//
// Files: WriteNPY, SaveNPY, ReadNPY and LoadNPY exchange single tensors
// with NumPy in its .npy format; they return errors and never panic.
package tensor
