// Package ptxvm is a virtual GPU that runs nabla's CUDA kernels from the
// same PTX text the NVIDIA driver loads, in pure Go, so that the CUDA
// backend (device/cuda) runs in every `go test ./...` on machines without
// a GPU. It is stricter than a GPU: every memory access is checked, data
// races in shared memory fail the launch, and queued work runs late.
//
// # What it models
//
// Modules and kernels. LoadModule parses a PTX module (.version,
// .target, .global/.const variables with initialisers, .shared
// variables, .entry and .func with their .param lists and .maxntid /
// .reqntid) and Function compiles one kernel with every .func it calls
// into a program whose operands are all register slots: PTX registers
// (scoped by { } blocks), special registers and immediates.
//
// Execution. A launch runs its blocks on worker goroutines (GOMAXPROCS),
// the warps of a block one after another up to a barrier, and the lanes
// of a warp in lockstep while they share a program counter. Each lane has
// its own program counter; a warp runs the lanes at the smallest one, and
// callees are placed before their callers, so lanes that diverge at an
// if/else or leave a loop early wait where the compiler's control flow
// joins them again. bar.sync releases when every live thread of the block
// has arrived (exited threads count as arrived). shfl.sync (up, down,
// bfly, idx, with clamp and segment masks), vote.sync and bar.warp.sync
// require every lane of their member mask at the same instruction.
// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 follows the PTX
// ISA's fragment layouts, with TF32 inputs truncated to 10 mantissa bits
// and exact products summed into the float32 accumulator.
//
// Arithmetic. Integer instructions at their width with PTX's shift,
// saturation and carry (.cc, addc, madc) rules; float32 arithmetic in all
// four IEEE rounding modes (computed exactly in float64 plus an error
// term, so fma rounds once), .ftz and .sat; cvt between every pair of
// integer and float types in use, with .rni/.rzi/.rmi/.rpi, saturation
// of float-to-integer conversions and cvt.rna.tf32.f32. .approx
// instructions (ex2, lg2, rcp, sqrt, rsqrt, sin, cos, tanh) are correctly
// rounded, which is inside every error bound the PTX ISA documents.
// Integer division by zero gives what the hardware gives instead of
// trapping.
//
// Launch validation, as the driver does it on an sm_90 device: at most
// 1024 threads per block (1024×1024×64), grid limits (2^31-1×65535×65535),
// .maxntid and .reqntid, 48 KiB of static plus dynamic shared memory
// unless raised by SetMaxDynamicShared (227 KiB at most), 4 KiB of
// parameters, and the packed arguments checked against the entry's .param
// list: their number, offsets (each at its alignment) and sizes.
//
// memcheck. Every global, shared, local and parameter access is checked
// against its space's bounds and for alignment to its size (a vector's
// whole size). Global addresses come from a 64-bit space that is never
// reused, with unmapped gaps between allocations, so an access past the
// end of a buffer or into freed memory is recognised and described. A
// fault stops the launch and is returned by the next synchronisation as a
// *Fault (kernel, block, thread, PTX line and instruction, address)
// inside an *Error with CUDA's result code (CUDA_ERROR_ILLEGAL_ADDRESS,
// CUDA_ERROR_MISALIGNED_ADDRESS, ...). The stream skips its later work
// until the failure has been reported.
//
// racecheck. Each 4-byte word of shared memory remembers which thread
// wrote and read it since the last barrier; two threads of a block that
// touch one word between two barriers, at least one writing and neither
// through an atomic, fail the launch with both threads and the offset.
//
// Streams and events. Work queued on a stream runs in queue order, but
// only when the host waits for it (Stream.Synchronize, Event.Synchronize,
// Device.Synchronize); Event.Query and Stream.Idle never run anything.
// Copies from pageable host memory read it when queued, as the driver
// stages them; copies from HostAlloc memory read it when they run. So a
// host that rewrites a staging buffer, or frees memory, before the device
// has used it sees wrong data or a memcheck fault in every run, where a
// GPU would fail once in a while. Events order streams: a wait holds its
// stream until the event's record has run on the other.
//
// # What it does not model
//
// Timing, clocks (%clock counts instructions), caches, memory
// coalescing, bank conflicts, occupancy and register limits; concurrency
// between the blocks of a launch beyond what goroutines give (blocks run
// to completion one after another on each worker, so a kernel that spins
// waiting for another block hangs) and between streams (queued work runs
// one operation at a time); the memory consistency model (every store is
// visible at once; membar and fence do nothing); half precision, textures,
// surfaces, cluster and asynchronous-copy instructions, and any
// instruction nabla's kernels do not use (Function reports which);
// recursion (frames are static). Overruns that stay inside a block the
// caching allocator rounded up are not seen, as with any sub-allocator.
// Speed: about 550 million thread instructions per second on two cores
// (BenchmarkVM), enough for tests on small tensors, not for training.
package ptxvm
