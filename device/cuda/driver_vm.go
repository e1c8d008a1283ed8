package cuda

// The driver over the PTX virtual machine (internal/ptxvm): the same
// embedded PTX, run in pure Go with memcheck and racecheck. It serves the
// tests of every build without a GPU, and NABLA_CUDA=emulate.

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/nabla-go/nabla/internal/ptxvm"
)

// vmDriver serves a virtual GPU as cuda:0: dev, or ptxvm.Shared() when
// dev is nil.
type vmDriver struct{ dev *ptxvm.Device }

var theVM vmDriver

func (v *vmDriver) device() *ptxvm.Device {
	if v.dev != nil {
		return v.dev
	}
	return ptxvm.Shared()
}

func (v *vmDriver) count() (int, error) { return 1, nil }

func (v *vmDriver) open(index int) (gpuDriver, deviceProps, error) {
	if index != 0 {
		return nil, deviceProps{}, vmError(ptxvm.CodeInvalidValue, "the PTX virtual machine has one device, cuda:0")
	}
	d := v.device()
	cfg := d.Config()
	return vmGPU{d, new(vmContext)}, deviceProps{Name: cfg.Name, Major: cfg.Major, Minor: cfg.Minor, SMs: cfg.SMs, TotalMem: cfg.TotalMem, Emulated: true}, nil
}

// vmGPU implements gpuDriver over a ptxvm.Device. Handles hold pointers
// to the machine's objects.
type vmGPU struct {
	d   *ptxvm.Device
	ctx *vmContext
}

// vmContext stands for the primary context an open retained. Once it is
// released, every call fails as the driver's calls in a destroyed
// context do, so that a backend that reaches the driver after Close is
// caught on the virtual machine (module loading and kernel lookup, only
// reached through a launch, are left to the launch's check).
type vmContext struct{ released atomic.Bool }

// live fails once the context is released.
func (g vmGPU) live() error {
	if g.ctx.released.Load() {
		return &driverError{code: ptxvm.CodeContextDestroyed, name: "CUDA_ERROR_CONTEXT_IS_DESTROYED", msg: "ptxvm: the device's primary context was released"}
	}
	return nil
}

func vmError(code int, msg string) error {
	return &driverError{code: code, name: "ptxvm", msg: msg}
}

// convert turns the machine's errors into driverErrors.
func convert(err error) error {
	if err == nil {
		return nil
	}
	var e *ptxvm.Error
	if errors.As(err, &e) {
		return &driverError{code: e.Code, name: e.Name, msg: e.Msg}
	}
	return err
}

func (g vmGPU) stream(s stream) *ptxvm.Stream { return (*ptxvm.Stream)(s.p) }
func (g vmGPU) event(e event) *ptxvm.Event    { return (*ptxvm.Event)(e.p) }

func (g vmGPU) release() error {
	if g.ctx.released.Swap(true) {
		return g.live()
	}
	return nil
}

func (g vmGPU) memAlloc(size int64) (devicePtr, error) {
	if err := g.live(); err != nil {
		return 0, err
	}
	p, err := g.d.Alloc(size)
	return devicePtr(p), convert(err)
}

func (g vmGPU) memFree(p devicePtr) error {
	if err := g.live(); err != nil {
		return err
	}
	return convert(g.d.Free(uint64(p)))
}

func (g vmGPU) hostAlloc(size int64) (unsafe.Pointer, error) {
	if err := g.live(); err != nil {
		return nil, err
	}
	p, err := g.d.HostAlloc(size)
	return p, convert(err)
}

func (g vmGPU) hostFree(p unsafe.Pointer) error {
	if err := g.live(); err != nil {
		return err
	}
	return convert(g.d.HostFree(p))
}

func (g vmGPU) memcpyHtoD(dst devicePtr, src unsafe.Pointer, size int64, s stream) error {
	if err := g.live(); err != nil {
		return err
	}
	return convert(g.d.CopyHtoD(uint64(dst), src, size, g.stream(s)))
}

func (g vmGPU) memcpyDtoH(dst unsafe.Pointer, src devicePtr, size int64, s stream) error {
	if err := g.live(); err != nil {
		return err
	}
	return convert(g.d.CopyDtoH(dst, uint64(src), size, g.stream(s)))
}

func (g vmGPU) memcpyDtoD(dst, src devicePtr, size int64, s stream) error {
	if err := g.live(); err != nil {
		return err
	}
	return convert(g.d.CopyDtoD(uint64(dst), uint64(src), size, g.stream(s)))
}

func (g vmGPU) memsetAsync(dst devicePtr, val byte, size int64, s stream) error {
	if err := g.live(); err != nil {
		return err
	}
	return convert(g.d.Memset(uint64(dst), val, size, g.stream(s)))
}

func (g vmGPU) loadModule(image []byte) (module, error) {
	if err := g.live(); err != nil {
		return module{}, err
	}
	if bytes.HasPrefix(image, []byte("\x7fELF")) {
		return module{}, vmError(ptxvm.CodeInvalidImage, "the PTX virtual machine runs PTX, not machine code (cubins)")
	}
	m, err := g.d.LoadModule(string(bytes.TrimSuffix(image, []byte{0})))
	if err != nil {
		return module{}, convert(err)
	}
	return module{unsafe.Pointer(m)}, nil
}

func (g vmGPU) unloadModule(m module) error {
	if err := g.live(); err != nil {
		return err
	}
	return convert((*ptxvm.Module)(m.p).Unload())
}

func (g vmGPU) function(m module, name string) (function, error) {
	f, err := (*ptxvm.Module)(m.p).Function(name)
	if err != nil {
		return function{}, convert(err)
	}
	return function{unsafe.Pointer(f)}, nil
}

func (g vmGPU) launch(f function, grid [3]uint32, block, smem uint32, s stream, a *argBuf) error {
	if err := g.live(); err != nil {
		return err
	}
	params := unsafe.Slice((*byte)(unsafe.Pointer(&a.w[0])), a.n)
	return convert(g.d.Launch((*ptxvm.Function)(f.p), grid, [3]uint32{block, 1, 1}, smem, g.stream(s), params, a.offs[:a.np]))
}

func (g vmGPU) newStream() (stream, error) {
	if err := g.live(); err != nil {
		return stream{}, err
	}
	return stream{unsafe.Pointer(g.d.NewStream())}, nil
}

func (g vmGPU) destroyStream(s stream) error {
	if err := g.live(); err != nil {
		return err
	}
	return convert(g.stream(s).Destroy())
}

func (g vmGPU) syncStream(s stream) error {
	if err := g.live(); err != nil {
		return err
	}
	return convert(g.stream(s).Synchronize())
}

// streamDone runs nothing (the machine runs queued work only when the
// host waits for it), so work is done only once it was waited for.
func (g vmGPU) streamDone(s stream) (bool, error) {
	if err := g.live(); err != nil {
		return false, err
	}
	return g.stream(s).Idle(), nil
}

func (g vmGPU) newEvent(bool) (event, error) {
	if err := g.live(); err != nil {
		return event{}, err
	}
	return event{unsafe.Pointer(g.d.NewEvent())}, nil
}

func (g vmGPU) destroyEvent(e event) error {
	if err := g.live(); err != nil {
		return err
	}
	return convert(g.event(e).Destroy())
}

func (g vmGPU) eventDone(e event) (bool, error) {
	if err := g.live(); err != nil {
		return false, err
	}
	return g.event(e).Query(), nil
}

func (g vmGPU) syncEvent(e event) error {
	if err := g.live(); err != nil {
		return err
	}
	return convert(g.event(e).Synchronize())
}

func (g vmGPU) stageCopy(compute, copyStream stream, before, copied event, dst devicePtr, src unsafe.Pointer, size int64, first, last bool) error {
	if err := g.live(); err != nil {
		return err
	}
	step := 1
	wrap := func(err error) error {
		if err == nil {
			return nil
		}
		return fmt.Errorf("%s: %w", stageSteps[step], convert(err))
	}
	if first {
		if err := g.event(before).Record(g.stream(compute)); err != nil {
			return wrap(err)
		}
		step = 2
		if err := g.stream(copyStream).WaitEvent(g.event(before)); err != nil {
			return wrap(err)
		}
	}
	step = 3
	if err := g.d.CopyHtoD(uint64(dst), src, size, g.stream(copyStream)); err != nil {
		return wrap(err)
	}
	step = 4
	if err := g.event(copied).Record(g.stream(copyStream)); err != nil {
		return wrap(err)
	}
	if !last {
		return nil
	}
	step = 5
	return wrap(g.stream(compute).WaitEvent(g.event(copied)))
}
