package cuda

// The driver seam: everything the backend asks of the CUDA driver goes
// through the two interfaces below. Two implementations exist: the real
// driver over gorgonia's cu package and a small cgo shim (driver_cu.go, build
// tag cuda), and the PTX virtual machine of internal/ptxvm (driver_vm.go,
// every build), which runs the same embedded PTX in pure Go for the tests
// and for NABLA_CUDA=emulate. The rest of the package is the same code for
// both.
//
// Handles are one-word structs around an unsafe.Pointer: the real driver
// stores its C handle there, the virtual machine a pointer to its own
// object, so neither side pays for a lookup or an allocation per call.

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// devicePtr is an address in device memory (CUdeviceptr).
type devicePtr uint64

// stream is a CUDA stream.
type stream struct{ p unsafe.Pointer }

// event is a CUDA event.
type event struct{ p unsafe.Pointer }

// module is a loaded kernel module.
type module struct{ p unsafe.Pointer }

// function is a kernel of a loaded module.
type function struct{ p unsafe.Pointer }

// deviceProps are the properties of a device the backend uses.
type deviceProps struct {
	Name         string
	Major, Minor int   // compute capability
	SMs          int   // streaming multiprocessors
	TotalMem     int64 // bytes of device memory
	Emulated     bool  // the PTX virtual machine, not a GPU
	// MachineCode says the driver loads cubins; the PTX virtual machine
	// runs PTX only.
	MachineCode bool
}

// driver is the process-wide part of the driver: counting and opening
// devices.
type driver interface {
	// count returns the number of devices.
	count() (int, error)
	// open retains device index's primary context and returns the
	// device's driver and properties.
	open(index int) (gpuDriver, deviceProps, error)
}

// gpuDriver is the driver of one open device. Every method runs with the
// device's primary context current; all of them are safe for concurrent
// use. Asynchronous calls (copies, launches, event records and waits)
// queue work on a stream and return; a failure of the work itself is
// reported by a later synchronisation.
type gpuDriver interface {
	// release releases the device's primary context.
	release() error

	// memAlloc allocates device memory; on out-of-memory the error wraps
	// errDriverOutOfMemory.
	memAlloc(size int64) (devicePtr, error)
	memFree(p devicePtr) error
	// hostAlloc allocates page-locked host memory (not zeroed).
	hostAlloc(size int64) (unsafe.Pointer, error)
	hostFree(p unsafe.Pointer) error

	// memcpyHtoD queues a copy from host memory. From pageable memory the
	// driver reads the source before returning; from hostAlloc memory it
	// reads it when the copy runs.
	memcpyHtoD(dst devicePtr, src unsafe.Pointer, size int64, s stream) error
	// memcpyDtoH queues a copy to host memory, written when it runs.
	memcpyDtoH(dst unsafe.Pointer, src devicePtr, size int64, s stream) error
	memcpyDtoD(dst, src devicePtr, size int64, s stream) error
	// memsetAsync queues a fill of size bytes at dst with val
	// (cuMemsetD8Async).
	memsetAsync(dst devicePtr, val byte, size int64, s stream) error

	// loadModule loads a module image: PTX text followed by a NUL byte,
	// or a cubin (kernels.Image.Data). A failure's error carries the JIT
	// compiler's error and information logs.
	loadModule(image []byte) (module, error)
	unloadModule(m module) error
	// function looks a kernel up by name.
	function(m module, name string) (function, error)
	// launch queues f on s with a one-dimensional block of block threads,
	// smem bytes of dynamic shared memory and the packed parameters a.
	launch(f function, grid [3]uint32, block, smem uint32, s stream, a *argBuf) error

	// newStream creates a non-blocking stream.
	newStream() (stream, error)
	destroyStream(s stream) error
	// syncStream waits for the work queued on s and reports its failure.
	syncStream(s stream) error
	// streamDone reports whether the work queued on s has completed,
	// without waiting (cuStreamQuery); a failed piece of that work is
	// reported as by syncStream.
	streamDone(s stream) (bool, error)

	// newEvent creates an event without timing; blockingSync makes a host
	// that waits on it sleep instead of spin.
	newEvent(blockingSync bool) (event, error)
	destroyEvent(e event) error
	// eventDone reports whether the work before e's last record has
	// completed, without waiting.
	eventDone(e event) (bool, error)
	// syncEvent waits until the work before e's last record has completed.
	syncEvent(e event) error

	// stageCopy queues one piece of a staged upload (pinned.go): with
	// first, the copy stream first waits for the work queued on the
	// compute stream so far (recording before on it); then the copy of
	// size bytes from pinned src to dst on the copy stream, then a record
	// of copied on the copy stream; with last, the compute stream waits on
	// copied. The error names the driver call that failed.
	stageCopy(compute, copyStream stream, before, copied event, dst devicePtr, src unsafe.Pointer, size int64, first, last bool) error
}

// errDriverOutOfMemory is what memAlloc's error wraps when the device has
// no memory left.
var errDriverOutOfMemory = errors.New("out of device memory")

// driverError is a CUresult from the driver, or the virtual machine's
// equivalent.
type driverError struct {
	code int
	name string
	msg  string
}

func (e *driverError) Error() string { return fmt.Sprintf("%s (%s)", e.msg, e.name) }

// Is makes an out-of-memory driverError match errDriverOutOfMemory.
func (e *driverError) Is(target error) bool {
	return target == errDriverOutOfMemory && e.code == cudaErrorOutOfMemory
}

// CUresult codes the backend looks at.
const (
	cudaErrorOutOfMemory = 2 // CUDA_ERROR_OUT_OF_MEMORY
)

// stageSteps names the driver calls of stageCopy by step.
var stageSteps = [...]string{
	"cuCtxSetCurrent",
	"cuEventRecord on the compute stream",
	"cuStreamWaitEvent (the copy stream waiting for the compute stream)",
	"cuMemcpyHtoDAsync on the copy stream",
	"cuEventRecord on the copy stream",
	"cuStreamWaitEvent (the compute stream waiting for the copy)",
}

// jitError adds the JIT compiler's logs of a failed module load to the
// driver's error.
func jitError(err error, errLog, infoLog string) error {
	errLog, infoLog = strings.TrimSpace(errLog), strings.TrimSpace(infoLog)
	if errLog == "" && infoLog == "" {
		return fmt.Errorf("%w (the JIT compiler logged nothing)", err)
	}
	msg := ""
	if errLog != "" {
		msg += "\nJIT error log:\n" + errLog
	}
	if infoLog != "" {
		msg += "\nJIT info log:\n" + infoLog
	}
	return fmt.Errorf("%w%s", err, msg)
}
