// Package cpu is nabla's CPU backend: the device.Backend of device.CPU(),
// in pure Go plus generated amd64 assembly micro-kernels (GEMM, SIMD
// elementwise and reduction loops, 2×2 max pooling), with a portable Go
// path for other architectures and -tags purego.
//
// Importing the package registers the backend with package device, as
// device/cuda registers the GPUs; package tensor imports it, so every
// program that uses tensors has it. Large operations are spread over
// the calling goroutine and GOMAXPROCS-1 long-lived workers, which poll
// for the next job for a moment before they park (workers.go says why); NABLA_CPU_SIMD=avx2 (or none) keeps the kernels
// off wider vector extensions.
//
// Besides the backend the package holds the settings that belong to the
// host alone: the memory limit that turns an allocation the machine cannot
// hold into a *device.MemoryError instead of a fatal runtime error
// (MemoryLimit, SetMemoryLimit, NABLA_CPU_MEMORY), the flushing of
// subnormal floats to zero on amd64, as PyTorch does after
// torch.set_flush_denormal(True) (SetFlushSubnormals), and access to the Go
// slices behind CPU buffers without a copy (Data, Bytes, Wrap), which
// host-side code such as file readers and writers uses.
package cpu
