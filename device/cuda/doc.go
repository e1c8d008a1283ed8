// Package cuda is nabla's CUDA backend: it implements device.Backend on
// NVIDIA GPUs through the CUDA driver API, with the hand-written kernels
// of package kernels.
//
// The backend itself (allocator, staging ring, kernel launches, error
// reporting) is plain Go, compiled in every build; it reaches the CUDA
// driver only through a small interface (see Driver below), which has
// two implementations:
//
//   - the GPU, with the cuda build tag (go build -tags cuda ./...): the
//     only cgo of the package, over gorgonia's cu package, which
//     initialises the driver in its package init and exits the process
//     when no GPU is present; that is why it is behind the tag. A program
//     that imports package tensor links this package (tensor/cuda_link.go)
//     and, built with the tag, registers the GPU with package device:
//     device.Best() then returns cuda:0;
//   - the PTX virtual machine (internal/ptxvm), in every build: it runs
//     the same embedded PTX in pure Go, for the tests and for trying the
//     CUDA code path without a GPU. Without the tag, importing this
//     package registers nothing unless NABLA_CUDA=emulate is set or the
//     program calls UseEmulator; cuda:N is then the virtual machine
//     (Backend.Emulated reports it, and String says so).
//
// The default build stays free of cgo.
//
// # Design
//
// Driver. driver.go declares the seam: driver (counting and opening
// devices) and gpuDriver (one open device: device and pinned host memory,
// copies and fills, modules and kernels, launches, streams, events, and
// the staged upload step), with one-word handle types. The choice of driver is made
// in one place, backend.go's init; Open and the provider registered with
// package device use the chosen one. Every gpuDriver method makes the
// device's context current itself, so the backend never locks OS threads.
// Errors of the driver are *driverError values (a CUresult's name and
// text); an allocation that fails for want of memory matches
// errDriverOutOfMemory, which starts the allocator's out-of-memory path.
//
// Contexts (the GPU driver). Each device uses its primary context,
// retained once. CUDA makes a context current per OS thread while Go
// moves goroutines between threads, so every call into the driver first
// makes the device's context current on the calling thread and stays on
// that thread until it is done: kernel launches, copies, stream and event
// waits and the staged upload step each go through one small cgo function
// that sets the context and makes its driver calls in the same C call (a
// goroutine cannot change threads in the middle of a C call; a launch
// allocates nothing), and the rarer multi-call sequences (allocation,
// module loading, stream and event creation) run under
// runtime.LockOSThread with cuCtxSetCurrent first. cuCtxSetCurrent is a
// thread-local store in the driver, far cheaper than sending every
// operation to a dedicated OS thread over a channel, and any number of
// goroutines can use a device at once.
//
// Streams. Each device has a non-blocking compute stream, on which every
// kernel, Download and small Upload is queued, so operations run in
// program order without host waits, and a copy stream for staged uploads
// (below), ordered against the compute stream by events. The host waits
// only in Download (which returns data), Synchronize (both streams), when
// the allocator must return memory to the driver, and when the staging
// ring is full.
//
// Memory. A caching allocator rounds requests up to size classes (at
// least 512 bytes, four classes per power of two up to 32 MiB, multiples
// of 2 MiB above) and keeps freed blocks on per-class free lists for
// reuse, so a training loop makes no cuMemAlloc/cuMemFree calls in steady
// state. Because all work is
// stream-ordered, a block freed by the host can be handed out again at
// once: kernels that still use it are queued before any kernel of its
// next owner. Buffers return to the cache when the Go garbage collector
// finds them unreachable (runtime.AddCleanup) or explicitly through
// Backend.Free. The allocator starts a collection itself when the bytes
// handed out since its last one exceed the bytes live after it (as
// GOGC=100 paces the Go heap; alloc.go explains the bounds). On
// out-of-memory it collects garbage for as long as collections find some,
// waiting each time until the cleanups they queued have run, then
// releases every cached block and retries once, then reports the bytes
// requested, the device's total, the bytes allocated by tensors and
// reserved in the cache, and the limit. EmptyCache releases the cache;
// MemoryStats reports allocated, reserved and peak bytes and counts.
//
// Host transfers. A copy from pageable Go memory makes the driver stage
// the data through its own pinned buffers, and may wait for the stream's
// queued kernels before it returns, which would stall the data loader's
// prefetch goroutine behind the training step it should overlap. So
// uploads of more than 64 KiB go through a pinned staging ring per device:
// 32 MiB of page-locked host memory (cuMemHostAlloc), allocated on the
// first such upload. Upload copies the Go slice into a free region of
// the ring on the calling goroutine, queues the DMA from it on the copy
// stream after an event recorded on the compute stream (so the copy cannot
// overwrite memory that earlier kernels still read), records an event
// after it on which the compute stream waits (so later kernels see the
// data), and returns: the host slice may be reused at once and nothing
// waits on the host. A region is reused only after its copy's event has
// completed. Uploads above 4 MiB are cut into pieces that pipeline the
// host copy with the DMA; one larger than the ring waits for ring space
// as its first pieces complete. pinned.go explains why a buffer freed
// and reused by the caching allocator is never written by a late copy.
// Smaller uploads are copied straight from Go memory on the compute
// stream; so are all uploads if the pinned memory cannot be allocated.
// MemoryStats counts device memory only; StagingStats reports the pinned
// bytes and the ring's counters. Download stays synchronous, on the
// compute stream, from device memory into Go memory.
//
// Errors. Every driver call and every launch is checked and reported with
// the kernel's name. Data-dependent errors inside kernels (integer
// division by zero, an index out of range in Gather/ScatterAdd) cannot be
// returned by the asynchronous launch: kernels record the first one in an
// error word in device memory, which the next Synchronize or Download
// reads back with a small copy queued before its stream synchronisation
// (errword.go), reports once and clears.
//
// Lifetime. Every call into the driver (launches, copies,
// synchronisations, allocations) is counted in and out by one atomic word;
// Close shuts it, waits for the calls in flight, then tears the device
// down, and every later call fails with an error wrapping errClosed, so no
// call reaches the driver with a destroyed stream or context
// (lifetime.go).
//
// Kernels. Modules (one per kernel family) are loaded lazily, once per
// device (kernels.Choose): machine code on sm_80 and sm_90 devices (and
// on 8.6 and 8.9, which run sm_80 code), loaded without the JIT compiler;
// elsewhere the newest PTX not newer than the device, which the driver
// JIT-compiles (for seconds on a cold cache) and caches on disk. A failed
// load reports the JIT compiler's log. Backend.KernelCode says which code
// a device loads, Backend.LoadedModules what was loaded and how long it
// took; NABLA_CUDA_PTX=1 loads PTX everywhere.
//
// TF32. SetAllowTF32(true) lets float32 matrix products use the tensor
// cores in TF32 (10-bit mantissa inputs, float32 accumulation) on sm_80
// and newer; it is off by default, as torch.backends.cuda.matmul.allow_tf32
// is in recent PyTorch.
package cuda
