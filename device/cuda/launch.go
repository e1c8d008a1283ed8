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
)

func cContext(c cu.CUContext) C.CUcontext  { return *(*C.CUcontext)(unsafe.Pointer(&c)) }
func cFunction(f cu.Function) C.CUfunction { return *(*C.CUfunction)(unsafe.Pointer(&f)) }
func cStream(s cu.Stream) C.CUstream       { return *(*C.CUstream)(unsafe.Pointer(&s)) }

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
