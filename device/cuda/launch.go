//go:build cuda

package cuda

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>
#include <string.h>

// nb_launch makes ctx current on the calling thread and launches f, in a
// single C call: a goroutine cannot move to another OS thread in the
// middle of it, so no runtime.LockOSThread is needed around launches. The
// parameters are packed in args; offs[i] is the offset of parameter i.
// (gorgonia.org/cu's Function.Launch copies every parameter as 8 bytes,
// which cannot pass the structs our kernels take by value, and mallocs
// twice per launch.)
static CUresult nb_launch(CUcontext ctx, CUfunction f, unsigned gx, unsigned gy, unsigned gz,
		unsigned bx, unsigned shmem, CUstream s, void *args, const unsigned *offs, int n) {
	void *params[16];
	int i;
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	if (n > 16) return CUDA_ERROR_INVALID_VALUE;
	for (i = 0; i < n; i++) params[i] = (char *)args + offs[i];
	return cuLaunchKernel(f, gx, gy, gz, bx, 1, 1, shmem, s, params, NULL);
}

// nb_host_alloc_mapped allocates zeroed page-locked host memory mapped
// into the device's address space (gorgonia.org/cu does not wrap
// cuMemHostAlloc); *dev is the address kernels use.
static CUresult nb_host_alloc_mapped(CUcontext ctx, size_t size, void **host, CUdeviceptr *dev) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	r = cuMemHostAlloc(host, size, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE);
	if (r != CUDA_SUCCESS) return r;
	memset(*host, 0, size);
	return cuMemHostGetDevicePointer(dev, *host, 0);
}

// nb_host_alloc allocates page-locked host memory for the staging ring
// (pinned.go): the copy engine reads it by DMA, so copies from it need no
// driver staging and do not make the host wait.
static CUresult nb_host_alloc(CUcontext ctx, size_t size, void **host) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuMemHostAlloc(host, size, 0);
}

// nb_stage_copy queues one piece of a staged upload, in a single C call
// (as nb_launch, so no thread locking is needed and the five driver calls
// cost one cgo crossing). With first, the copy stream first waits for the
// work queued on the compute stream so far (event before), so the copy
// cannot overwrite memory that earlier kernels still read. After the copy
// it records copied on the copy stream: the staging bytes are free again
// once it completes. With last, the compute stream waits on copied, so
// everything queued on it afterwards sees the data; the host never waits.
// *step tells which call failed (see stageSteps).
static CUresult nb_stage_copy(CUcontext ctx, CUstream compute, CUstream copy, CUevent before, CUevent copied,
		CUdeviceptr dst, const void *src, size_t size, int first, int last, int *step) {
	CUresult r;
	*step = 0;
	r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	if (first) {
		*step = 1;
		r = cuEventRecord(before, compute);
		if (r != CUDA_SUCCESS) return r;
		*step = 2;
		r = cuStreamWaitEvent(copy, before, 0);
		if (r != CUDA_SUCCESS) return r;
	}
	*step = 3;
	r = cuMemcpyHtoDAsync(dst, src, size, copy);
	if (r != CUDA_SUCCESS) return r;
	*step = 4;
	r = cuEventRecord(copied, copy);
	if (r != CUDA_SUCCESS || !last) return r;
	*step = 5;
	return cuStreamWaitEvent(compute, copied, 0);
}

// nb_event_query returns CUDA_SUCCESS when the work before the event's
// last record has completed, CUDA_ERROR_NOT_READY while it has not.
static CUresult nb_event_query(CUcontext ctx, CUevent e) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuEventQuery(e);
}

static CUresult nb_event_sync(CUcontext ctx, CUevent e) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuEventSynchronize(e);
}

static CUresult nb_host_free(CUcontext ctx, void *p) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuMemFreeHost(p);
}

static const char *nb_error_name(CUresult r) {
	const char *s = 0;
	if (cuGetErrorName(r, &s) != CUDA_SUCCESS || s == 0) return "CUDA_ERROR_UNKNOWN";
	return s;
}

static const char *nb_error_string(CUresult r) {
	const char *s = 0;
	if (cuGetErrorString(r, &s) != CUDA_SUCCESS || s == 0) return "unknown error";
	return s;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

// gorgonia.org/cu's handle types are structs holding exactly one C
// handle; these conversions reinterpret them as this package's C types.
// The array sizes below fail to compile if that ever changes.
var (
	_ [unsafe.Sizeof(cu.Function{}) - unsafe.Sizeof(C.CUfunction(nil))]struct{}
	_ [unsafe.Sizeof(C.CUfunction(nil)) - unsafe.Sizeof(cu.Function{})]struct{}
	_ [unsafe.Sizeof(cu.Stream{}) - unsafe.Sizeof(C.CUstream(nil))]struct{}
	_ [unsafe.Sizeof(C.CUstream(nil)) - unsafe.Sizeof(cu.Stream{})]struct{}
	_ [unsafe.Sizeof(cu.CUContext{}) - unsafe.Sizeof(C.CUcontext(nil))]struct{}
	_ [unsafe.Sizeof(C.CUcontext(nil)) - unsafe.Sizeof(cu.CUContext{})]struct{}
	_ [unsafe.Sizeof(cu.Event{}) - unsafe.Sizeof(C.CUevent(nil))]struct{}
	_ [unsafe.Sizeof(C.CUevent(nil)) - unsafe.Sizeof(cu.Event{})]struct{}
)

func cContext(c cu.CUContext) C.CUcontext  { return *(*C.CUcontext)(unsafe.Pointer(&c)) }
func cFunction(f cu.Function) C.CUfunction { return *(*C.CUfunction)(unsafe.Pointer(&f)) }
func cStream(s cu.Stream) C.CUstream       { return *(*C.CUstream)(unsafe.Pointer(&s)) }
func cEvent(e cu.Event) C.CUevent          { return *(*C.CUevent)(unsafe.Pointer(&e)) }

// driverError is a CUresult from a driver call made through the shim.
type driverError struct {
	code int
	name string
	msg  string
}

func (e *driverError) Error() string { return fmt.Sprintf("%s (%s)", e.msg, e.name) }

func resultError(r C.CUresult) error {
	if r == C.CUDA_SUCCESS {
		return nil
	}
	return &driverError{code: int(r), name: C.GoString(C.nb_error_name(r)), msg: C.GoString(C.nb_error_string(r))}
}

// cuLaunch launches fn on the stream with the packed parameters.
func cuLaunch(ctx cu.CUContext, fn cu.Function, grid [3]uint32, block, smem uint32, s cu.Stream, a *argBuf) error {
	r := C.nb_launch(cContext(ctx), cFunction(fn), C.uint(grid[0]), C.uint(grid[1]), C.uint(grid[2]),
		C.uint(block), C.uint(smem), cStream(s), unsafe.Pointer(&a.w[0]), (*C.uint)(unsafe.Pointer(&a.offs[0])), C.int(a.np))
	return resultError(r)
}

// hostAllocMapped returns size bytes of zeroed mapped pinned memory: its
// host address and its device address.
func hostAllocMapped(ctx cu.CUContext, size int) (unsafe.Pointer, cu.DevicePtr, error) {
	var host unsafe.Pointer
	var dev C.CUdeviceptr
	if err := resultError(C.nb_host_alloc_mapped(cContext(ctx), C.size_t(size), &host, &dev)); err != nil {
		return nil, 0, err
	}
	return host, cu.DevicePtr(dev), nil
}

func hostFree(ctx cu.CUContext, p unsafe.Pointer) error {
	return resultError(C.nb_host_free(cContext(ctx), p))
}

// hostAlloc returns size bytes of page-locked host memory (not zeroed).
func hostAlloc(ctx cu.CUContext, size int64) (unsafe.Pointer, error) {
	var host unsafe.Pointer
	if err := resultError(C.nb_host_alloc(cContext(ctx), C.size_t(size), &host)); err != nil {
		return nil, err
	}
	return host, nil
}

// stageSteps names the driver calls of nb_stage_copy by its *step.
var stageSteps = [...]string{
	"cuCtxSetCurrent",
	"cuEventRecord on the compute stream",
	"cuStreamWaitEvent (the copy stream waiting for the compute stream)",
	"cuMemcpyHtoDAsync on the copy stream",
	"cuEventRecord on the copy stream",
	"cuStreamWaitEvent (the compute stream waiting for the copy)",
}

// stageCopy queues the copy of size bytes from pinned host memory src to
// dst on the copy stream, ordered against the compute stream as
// nb_stage_copy describes. The error names the driver call that failed.
func stageCopy(ctx cu.CUContext, compute, copyStream cu.Stream, before, copied cu.Event, dst cu.DevicePtr, src unsafe.Pointer, size int64, first, last bool) error {
	var step C.int
	r := C.nb_stage_copy(cContext(ctx), cStream(compute), cStream(copyStream), cEvent(before), cEvent(copied),
		C.CUdeviceptr(dst), src, C.size_t(size), cBool(first), cBool(last), &step)
	if err := resultError(r); err != nil {
		return fmt.Errorf("%s: %w", stageSteps[step], err)
	}
	return nil
}

func cBool(v bool) C.int {
	if v {
		return 1
	}
	return 0
}

// eventDone reports whether the work before e's last record has
// completed, without waiting.
func eventDone(ctx cu.CUContext, e cu.Event) (bool, error) {
	r := C.nb_event_query(cContext(ctx), cEvent(e))
	if r == C.CUDA_ERROR_NOT_READY {
		return false, nil
	}
	if err := resultError(r); err != nil {
		return false, err
	}
	return true, nil
}

// eventSync waits until the work before e's last record has completed.
func eventSync(ctx cu.CUContext, e cu.Event) error {
	return resultError(C.nb_event_sync(cContext(ctx), cEvent(e)))
}
