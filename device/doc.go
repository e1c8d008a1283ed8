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
// This package is the contract only: devices and their registry, the
// Backend interface and its operand types (View, Layout, DType, the op
// codes, ConvGeometry, OptimHyper), and memory statistics and errors. The
// backends live in their own packages and register themselves with
// Register when linked in: device/cpu, the pure-Go CPU backend, which
// package tensor imports, so every program that uses tensors has it; and
// device/cuda, the CUDA backend (a GPU behind the "cuda" build tag, or the
// PTX virtual machine). Code that both backends share but that is no part
// of the contract (operand validation, the Philox streams, the sorting
// network) lives in the module's internal/backend.
package device
