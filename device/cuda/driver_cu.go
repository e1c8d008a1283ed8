//go:build cuda

package cuda

// The real driver: the driver seam (driver.go) over the CUDA driver API,
// through gorgonia.org/cu and the small cgo shim below. This is the only
// file of the package that uses cgo or gorgonia.org/cu, and it is compiled
// only with the cuda build tag (gorgonia.org/cu initialises the driver in
// its package init and exits the process when no GPU is present).
//
// Contexts: CUDA makes a context current per OS thread while Go moves
// goroutines between threads. Every method makes the device's primary
// context current itself: the shim's functions set it and make their
// driver calls in the same C call (a goroutine cannot change threads in
// the middle of one), and the gorgonia.org/cu sequences run under
// runtime.LockOSThread with cuCtxSetCurrent first (cuGPU.do).

/*
#cgo LDFLAGS: -lcuda
#cgo linux CFLAGS: -I/usr/local/cuda/include
#cgo linux LDFLAGS: -L/usr/local/cuda/lib64
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

// nb_launch makes ctx current on the calling thread and launches f, in a
// single C call. The parameters are packed in args; offs[i] is the offset
// of parameter i. (gorgonia.org/cu's Function.Launch copies every
// parameter as 8 bytes, which cannot pass the structs our kernels take by
// value, and mallocs twice per launch.)
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

// nb_module_load makes ctx current and loads a module image (PTX text or
// a cubin) with the JIT compiler's error and information log buffers, so
// that a failure can say why (cuModuleLoadData reports only
// CUDA_ERROR_INVALID_PTX and the like). On return *errlen and *infolen
// hold the lengths of the logs written.
static CUresult nb_module_load(CUcontext ctx, const void *image, CUmodule *mod,
		char *errlog, size_t *errlen, char *infolog, size_t *infolen) {
	CUjit_option opts[4] = {
		CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
		CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
	};
	void *vals[4] = {errlog, (void *)*errlen, infolog, (void *)*infolen};
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	errlog[0] = 0;
	infolog[0] = 0;
	r = cuModuleLoadDataEx(mod, image, 4, opts, vals);
	*errlen = strnlen(errlog, *errlen);
	*infolen = strnlen(infolog, *infolen);
	return r;
}

// nb_host_alloc allocates page-locked host memory for the staging ring
// (pinned.go): the copy engine reads it by DMA, so copies from it need no
// driver staging and do not make the host wait.
static CUresult nb_host_alloc(CUcontext ctx, size_t size, void **host) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuMemHostAlloc(host, size, 0);
}

static CUresult nb_host_free(CUcontext ctx, void *p) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuMemFreeHost(p);
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

// The copies and waits of every op: one C call each, context included.

static CUresult nb_memcpy_htod(CUcontext ctx, CUdeviceptr dst, const void *src, size_t size, CUstream s) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuMemcpyHtoDAsync(dst, src, size, s);
}

static CUresult nb_memcpy_dtoh(CUcontext ctx, void *dst, CUdeviceptr src, size_t size, CUstream s) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuMemcpyDtoHAsync(dst, src, size, s);
}

static CUresult nb_memcpy_dtod(CUcontext ctx, CUdeviceptr dst, CUdeviceptr src, size_t size, CUstream s) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuMemcpyDtoDAsync(dst, src, size, s);
}

static CUresult nb_memset_d8(CUcontext ctx, CUdeviceptr dst, unsigned char val, size_t size, CUstream s) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuMemsetD8Async(dst, val, size, s);
}

static CUresult nb_stream_sync(CUcontext ctx, CUstream s) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuStreamSynchronize(s);
}

// nb_stream_query returns CUDA_SUCCESS when the work queued on s has
// completed, CUDA_ERROR_NOT_READY while it has not.
static CUresult nb_stream_query(CUcontext ctx, CUstream s) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	return cuStreamQuery(s);
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
	"reflect"
	"runtime"
	"unsafe"

	"gorgonia.org/cu"
)

// Set during package variable initialisation, which precedes every init
// function: backend.go's init registers it.
var _ = func() struct{} { hardware = cuDriver{}; return struct{}{} }()

// gorgonia.org/cu's handle types are structs holding exactly one C
// handle; toHandle and fromHandle reinterpret them as the unsafe.Pointer
// of this package's handles. The array sizes below fail to compile if
// that ever changes.
var (
	_ [unsafe.Sizeof(cu.Function{}) - unsafe.Sizeof(unsafe.Pointer(nil))]struct{}
	_ [unsafe.Sizeof(unsafe.Pointer(nil)) - unsafe.Sizeof(cu.Function{})]struct{}
	_ [unsafe.Sizeof(cu.Module{}) - unsafe.Sizeof(unsafe.Pointer(nil))]struct{}
	_ [unsafe.Sizeof(unsafe.Pointer(nil)) - unsafe.Sizeof(cu.Module{})]struct{}
	_ [unsafe.Sizeof(cu.Stream{}) - unsafe.Sizeof(unsafe.Pointer(nil))]struct{}
	_ [unsafe.Sizeof(unsafe.Pointer(nil)) - unsafe.Sizeof(cu.Stream{})]struct{}
	_ [unsafe.Sizeof(cu.CUContext{}) - unsafe.Sizeof(unsafe.Pointer(nil))]struct{}
	_ [unsafe.Sizeof(unsafe.Pointer(nil)) - unsafe.Sizeof(cu.CUContext{})]struct{}
	_ [unsafe.Sizeof(cu.Event{}) - unsafe.Sizeof(unsafe.Pointer(nil))]struct{}
	_ [unsafe.Sizeof(unsafe.Pointer(nil)) - unsafe.Sizeof(cu.Event{})]struct{}
)

// toHandle returns the C handle inside a gorgonia.org/cu handle h.
func toHandle[H cu.Function | cu.Module | cu.Stream | cu.Event | cu.CUContext](h H) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&h))
}

// fromHandle returns the gorgonia.org/cu handle of C handle p.
func fromHandle[H cu.Function | cu.Module | cu.Stream | cu.Event | cu.CUContext](p unsafe.Pointer) H {
	var h H
	*(*unsafe.Pointer)(unsafe.Pointer(&h)) = p
	return h
}

// resultError returns nil for CUDA_SUCCESS and a *driverError otherwise
// (matching errDriverOutOfMemory for CUDA_ERROR_OUT_OF_MEMORY).
func resultError(r C.CUresult) error {
	if r == C.CUDA_SUCCESS {
		return nil
	}
	return &driverError{code: int(r), name: C.GoString(C.nb_error_name(r)), msg: C.GoString(C.nb_error_string(r))}
}

// cuError converts an error of gorgonia.org/cu (its unexported cuResult,
// a CUresult as an int) to a *driverError, so that both halves of the
// driver report errors alike.
func cuError(err error) error {
	if err == nil {
		return nil
	}
	if v := reflect.ValueOf(err); v.Kind() == reflect.Int {
		return resultError(C.CUresult(v.Int()))
	}
	return err
}

func cBool(v bool) C.int {
	if v {
		return 1
	}
	return 0
}

// cuDriver is the driver of the machine's GPUs.
type cuDriver struct{}

func (cuDriver) count() (int, error) {
	n, err := cu.NumDevices()
	return n, cuError(err)
}

func (cuDriver) open(index int) (gpuDriver, deviceProps, error) {
	var p deviceProps
	dev, err := cu.GetDevice(index)
	if err != nil {
		return nil, p, fmt.Errorf("cuDeviceGet(%d): %w", index, cuError(err))
	}
	if p.Name, err = dev.Name(); err != nil {
		return nil, p, fmt.Errorf("name: %w", cuError(err))
	}
	if p.Major, err = dev.Attribute(cu.ComputeCapabilityMajor); err != nil {
		return nil, p, fmt.Errorf("compute capability: %w", cuError(err))
	}
	if p.Minor, err = dev.Attribute(cu.ComputeCapabilityMinor); err != nil {
		return nil, p, fmt.Errorf("compute capability: %w", cuError(err))
	}
	if p.SMs, err = dev.Attribute(cu.MultiprocessorCount); err != nil {
		return nil, p, fmt.Errorf("multiprocessor count: %w", cuError(err))
	}
	if p.TotalMem, err = dev.TotalMem(); err != nil {
		return nil, p, fmt.Errorf("memory size: %w", cuError(err))
	}
	ctx, err := dev.RetainPrimaryCtx()
	if err != nil {
		return nil, p, fmt.Errorf("retaining the primary context: %w", cuError(err))
	}
	p.MachineCode = true
	return &cuGPU{dev: dev, ctx: ctx, cctx: C.CUcontext(toHandle(ctx))}, p, nil
}

// cuGPU is the driver of one GPU: its device and retained primary context.
type cuGPU struct {
	dev  cu.Device
	ctx  cu.CUContext
	cctx C.CUcontext // ctx, for the shim
}

// do runs f on a locked OS thread with the device's context current, for
// gorgonia.org/cu calls (each is its own cgo call, so the goroutine could
// otherwise change threads between cuCtxSetCurrent and the call).
func (g *cuGPU) do(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cu.SetCurrentContext(g.ctx); err != nil {
		return fmt.Errorf("cuCtxSetCurrent: %w", cuError(err))
	}
	return cuError(f())
}

func (g *cuGPU) release() error { return cuError(g.dev.ReleasePrimaryCtx()) }

func (g *cuGPU) memAlloc(size int64) (devicePtr, error) {
	var p cu.DevicePtr
	err := g.do(func() error {
		var e error
		p, e = cu.MemAlloc(size)
		return e
	})
	return devicePtr(p), err
}

func (g *cuGPU) memFree(p devicePtr) error {
	return g.do(func() error { return cu.MemFree(cu.DevicePtr(p)) })
}

func (g *cuGPU) hostAlloc(size int64) (unsafe.Pointer, error) {
	var host unsafe.Pointer
	if err := resultError(C.nb_host_alloc(g.cctx, C.size_t(size), &host)); err != nil {
		return nil, err
	}
	return host, nil
}

func (g *cuGPU) hostFree(p unsafe.Pointer) error {
	return resultError(C.nb_host_free(g.cctx, p))
}

func (g *cuGPU) memcpyHtoD(dst devicePtr, src unsafe.Pointer, size int64, s stream) error {
	return resultError(C.nb_memcpy_htod(g.cctx, C.CUdeviceptr(dst), src, C.size_t(size), C.CUstream(s.p)))
}

func (g *cuGPU) memcpyDtoH(dst unsafe.Pointer, src devicePtr, size int64, s stream) error {
	return resultError(C.nb_memcpy_dtoh(g.cctx, dst, C.CUdeviceptr(src), C.size_t(size), C.CUstream(s.p)))
}

func (g *cuGPU) memcpyDtoD(dst, src devicePtr, size int64, s stream) error {
	return resultError(C.nb_memcpy_dtod(g.cctx, C.CUdeviceptr(dst), C.CUdeviceptr(src), C.size_t(size), C.CUstream(s.p)))
}

func (g *cuGPU) memsetAsync(dst devicePtr, val byte, size int64, s stream) error {
	return resultError(C.nb_memset_d8(g.cctx, C.CUdeviceptr(dst), C.uchar(val), C.size_t(size), C.CUstream(s.p)))
}

// jitLogSize is the size of each JIT log buffer: ptxas reports one line
// per error, and a failing module rarely has more than a few.
const jitLogSize = 16 << 10

func (g *cuGPU) loadModule(image []byte) (module, error) {
	// The image goes to C memory: the driver reads it during the call
	// only, but a cubin of megabytes is not worth pinning Go memory for.
	img := C.CBytes(image)
	defer C.free(img)
	logs := (*[2 * jitLogSize]C.char)(C.malloc(2 * jitLogSize))
	defer C.free(unsafe.Pointer(logs))
	errLen, infoLen := C.size_t(jitLogSize), C.size_t(jitLogSize)
	var m C.CUmodule
	r := C.nb_module_load(g.cctx, img, &m, &logs[0], &errLen, &logs[jitLogSize], &infoLen)
	if err := resultError(r); err != nil {
		errLog := C.GoStringN(&logs[0], C.int(errLen))
		infoLog := C.GoStringN(&logs[jitLogSize], C.int(infoLen))
		return module{}, jitError(err, errLog, infoLog)
	}
	return module{unsafe.Pointer(m)}, nil
}

func (g *cuGPU) unloadModule(m module) error {
	return g.do(func() error { return fromHandle[cu.Module](m.p).Unload() })
}

func (g *cuGPU) function(m module, name string) (function, error) {
	var f cu.Function
	err := g.do(func() error {
		var e error
		f, e = fromHandle[cu.Module](m.p).Function(name)
		return e
	})
	return function{toHandle(f)}, err
}

// launch is one cgo call and allocates nothing.
func (g *cuGPU) launch(f function, grid [3]uint32, block, smem uint32, s stream, a *argBuf) error {
	return resultError(C.nb_launch(g.cctx, C.CUfunction(f.p), C.uint(grid[0]), C.uint(grid[1]), C.uint(grid[2]),
		C.uint(block), C.uint(smem), C.CUstream(s.p), unsafe.Pointer(&a.w[0]), (*C.uint)(unsafe.Pointer(&a.offs[0])), C.int(a.np)))
}

func (g *cuGPU) newStream() (stream, error) {
	var s cu.Stream
	err := g.do(func() error {
		var e error
		s, e = cu.MakeStream(cu.NonBlocking)
		return e
	})
	return stream{toHandle(s)}, err
}

func (g *cuGPU) destroyStream(s stream) error {
	return g.do(func() error {
		cs := fromHandle[cu.Stream](s.p)
		return cs.Destroy()
	})
}

func (g *cuGPU) syncStream(s stream) error {
	return resultError(C.nb_stream_sync(g.cctx, C.CUstream(s.p)))
}

func (g *cuGPU) streamDone(s stream) (bool, error) {
	return queryResult(C.nb_stream_query(g.cctx, C.CUstream(s.p)))
}

func (g *cuGPU) newEvent(blockingSync bool) (event, error) {
	flags := cu.DisableTiming
	if blockingSync {
		flags |= cu.BlockingSyncEvent
	}
	var e cu.Event
	err := g.do(func() error {
		var err error
		e, err = cu.MakeEvent(flags)
		return err
	})
	return event{toHandle(e)}, err
}

func (g *cuGPU) destroyEvent(e event) error {
	return g.do(func() error {
		ce := fromHandle[cu.Event](e.p)
		return cu.DestroyEvent(&ce)
	})
}

func (g *cuGPU) eventDone(e event) (bool, error) {
	return queryResult(C.nb_event_query(g.cctx, C.CUevent(e.p)))
}

// queryResult turns the result of cuStreamQuery or cuEventQuery into
// done and an error.
func queryResult(r C.CUresult) (bool, error) {
	if r == C.CUDA_ERROR_NOT_READY {
		return false, nil
	}
	if err := resultError(r); err != nil {
		return false, err
	}
	return true, nil
}

func (g *cuGPU) syncEvent(e event) error {
	return resultError(C.nb_event_sync(g.cctx, C.CUevent(e.p)))
}

// stageCopy is one cgo call (nb_stage_copy).
func (g *cuGPU) stageCopy(compute, copyStream stream, before, copied event, dst devicePtr, src unsafe.Pointer, size int64, first, last bool) error {
	var step C.int
	r := C.nb_stage_copy(g.cctx, C.CUstream(compute.p), C.CUstream(copyStream.p), C.CUevent(before.p), C.CUevent(copied.p),
		C.CUdeviceptr(dst), src, C.size_t(size), cBool(first), cBool(last), &step)
	if err := resultError(r); err != nil {
		return fmt.Errorf("%s: %w", stageSteps[step], err)
	}
	return nil
}
