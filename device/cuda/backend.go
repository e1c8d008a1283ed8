//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/kernels"
)

func init() { device.RegisterCUDA(provider{}) }

var _ device.Backend = (*Backend)(nil)

// provider opens CUDA devices for package device.
type provider struct{}

func (provider) Count() int {
	n, err := cu.NumDevices()
	if err != nil {
		return 0
	}
	return n
}

func (provider) Open(index int) (device.Backend, error) { return Open(index) }

// Backend is the device.Backend of one CUDA GPU. Obtain it with
// device.Get(device.CUDA(i)) (and a type assertion for the extra methods)
// or with Get.
type Backend struct {
	index    int
	dev      cu.Device
	ctx      cu.CUContext
	stream   cu.Stream
	name     string
	major    int
	minor    int
	arch     int // PTX architecture loaded (70, 80, 90)
	sms      int
	totalMem int64

	alloc *allocator
	stage stager // pinned staging ring and copy stream of Upload (pinned.go)

	errHost unsafe.Pointer // *errWord in mapped pinned memory
	errDev  cu.DevicePtr

	modMu sync.Mutex
	mods  map[string]cu.Module
	fnMu  sync.RWMutex
	fns   map[fnKey]cu.Function

	closed atomic.Bool
}

type fnKey struct{ module, name string }

var (
	openMu sync.Mutex
	opened = map[int]*Backend{}
)

// Get returns the backend of CUDA device index, opening it on first use
// (the same one device.Get returns).
func Get(index int) (*Backend, error) {
	b, err := device.Get(device.CUDA(index))
	if err != nil {
		return nil, err
	}
	cb, ok := b.(*Backend)
	if !ok {
		return nil, fmt.Errorf("cuda: device %d is served by %T, not this package", index, b)
	}
	return cb, nil
}

// Open starts using CUDA device index: it retains the device's primary
// context, creates the device's stream and the asynchronous error word.
// Kernel modules load on first use. Opening an open device returns the same
// backend.
func Open(index int) (*Backend, error) {
	openMu.Lock()
	defer openMu.Unlock()
	if b, ok := opened[index]; ok && !b.closed.Load() {
		return b, nil
	}
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("cuda: counting devices: %w", err)
	}
	if index < 0 || index >= n {
		return nil, fmt.Errorf("cuda: device %d does not exist (%d device(s))", index, n)
	}
	dev, err := cu.GetDevice(index)
	if err != nil {
		return nil, fmt.Errorf("cuda: cuDeviceGet(%d): %w", index, err)
	}
	b := &Backend{index: index, dev: dev, mods: map[string]cu.Module{}, fns: map[fnKey]cu.Function{}}
	if b.name, err = dev.Name(); err != nil {
		return nil, fmt.Errorf("cuda: device %d name: %w", index, err)
	}
	if b.major, err = dev.Attribute(cu.ComputeCapabilityMajor); err != nil {
		return nil, fmt.Errorf("cuda: device %d compute capability: %w", index, err)
	}
	if b.minor, err = dev.Attribute(cu.ComputeCapabilityMinor); err != nil {
		return nil, fmt.Errorf("cuda: device %d compute capability: %w", index, err)
	}
	if b.sms, err = dev.Attribute(cu.MultiprocessorCount); err != nil {
		return nil, fmt.Errorf("cuda: device %d multiprocessor count: %w", index, err)
	}
	if b.totalMem, err = dev.TotalMem(); err != nil {
		return nil, fmt.Errorf("cuda: device %d memory size: %w", index, err)
	}
	if b.arch, err = kernels.Select(b.major, b.minor); err != nil {
		return nil, fmt.Errorf("cuda: device %d (%s): %w", index, b.name, err)
	}
	if b.ctx, err = dev.RetainPrimaryCtx(); err != nil {
		return nil, fmt.Errorf("cuda: device %d: retaining the primary context: %w", index, err)
	}
	err = b.do(func() error {
		var e error
		if b.stream, e = cu.MakeStream(cu.NonBlocking); e != nil {
			return fmt.Errorf("creating the stream: %w", e)
		}
		return nil
	})
	if err == nil {
		b.errHost, b.errDev, err = hostAllocMapped(b.ctx, int(unsafe.Sizeof(errWord{})))
		if err != nil {
			err = fmt.Errorf("allocating the error word (cuMemHostAlloc): %w", err)
		}
	}
	if err != nil {
		_ = dev.ReleasePrimaryCtx()
		return nil, fmt.Errorf("cuda: device %d: %w", index, err)
	}
	b.alloc = newAllocator(b)
	opened[index] = b
	return b, nil
}

// Device returns cuda:N.
func (b *Backend) Device() device.Device { return device.CUDA(b.index) }

// Name is the GPU's product name.
func (b *Backend) Name() string { return b.name }

// ComputeCapability returns the GPU's compute capability.
func (b *Backend) ComputeCapability() (major, minor int) { return b.major, b.minor }

// PTXArch is the virtual architecture of the PTX the backend loads (70,
// 80 or 90).
func (b *Backend) PTXArch() int { return b.arch }

// Multiprocessors is the GPU's number of streaming multiprocessors.
func (b *Backend) Multiprocessors() int { return b.sms }

// TotalMemory is the GPU's memory size in bytes.
func (b *Backend) TotalMemory() int64 { return b.totalMem }

func (b *Backend) String() string {
	return fmt.Sprintf("%v (%s, sm_%d%d, PTX compute_%d)", b.Device(), b.name, b.major, b.minor, b.arch)
}

// do runs f on a locked OS thread with the device's context current, for
// sequences of gorgonia.org/cu calls (each is its own cgo call, so the
// goroutine could otherwise change threads between them).
func (b *Backend) do(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cu.SetCurrentContext(b.ctx); err != nil {
		return fmt.Errorf("cuCtxSetCurrent: %w", err)
	}
	return f()
}

// errf formats an error of this device.
func (b *Backend) errf(format string, args ...any) error {
	return fmt.Errorf("device: %v: "+format, append([]any{b.Device()}, args...)...)
}

var errClosed = errors.New("the backend is closed")

func (b *Backend) checkOpen(op string) error {
	if b.closed.Load() {
		return b.errf("%s: %w", op, errClosed)
	}
	return nil
}

// function returns kernel name of module, loading the module on first use.
func (b *Backend) function(module, name string) (cu.Function, error) {
	key := fnKey{module, name}
	b.fnMu.RLock()
	fn, ok := b.fns[key]
	b.fnMu.RUnlock()
	if ok {
		return fn, nil
	}
	mod, err := b.module(module)
	if err != nil {
		return cu.Function{}, err
	}
	err = b.do(func() error {
		var e error
		fn, e = mod.Function(name)
		return e
	})
	if err != nil {
		return cu.Function{}, b.errf("kernel %s.%s: cuModuleGetFunction: %w", module, name, err)
	}
	b.fnMu.Lock()
	b.fns[key] = fn
	b.fnMu.Unlock()
	return fn, nil
}

// module loads a kernel module from the embedded PTX, once per device.
func (b *Backend) module(name string) (cu.Module, error) {
	b.modMu.Lock()
	defer b.modMu.Unlock()
	if m, ok := b.mods[name]; ok {
		return m, nil
	}
	src, arch, err := kernels.PTX(name, b.major, b.minor)
	if err != nil {
		return cu.Module{}, b.errf("%w", err)
	}
	var m cu.Module
	err = b.do(func() error {
		var e error
		m, e = cu.LoadData(src)
		return e
	})
	if err != nil {
		return cu.Module{}, b.errf("loading kernel module %q (PTX compute_%d) with cuModuleLoadData: %w", name, arch, err)
	}
	b.mods[name] = m
	return m, nil
}

var argPool = sync.Pool{New: func() any { return new(argBuf) }}

func getArgs() *argBuf {
	a := argPool.Get().(*argBuf)
	a.reset()
	return a
}

// launch queues kernel name of module on the device's stream.
func (b *Backend) launch(module, name string, grid [3]uint32, smem uint32, a *argBuf) error {
	defer argPool.Put(a)
	if err := b.checkOpen(name); err != nil {
		return err
	}
	fn, err := b.function(module, name)
	if err != nil {
		return err
	}
	if grid[1] == 0 {
		grid[1] = 1
	}
	if grid[2] == 0 {
		grid[2] = 1
	}
	if err := cuLaunch(b.ctx, fn, grid, threads, smem, b.stream, a); err != nil {
		return b.errf("launching kernel %s.%s (grid %v, block %d, %d B shared): %w", module, name, grid, threads, smem, err)
	}
	return nil
}

// launch1 queues an elementwise kernel over n elements.
func (b *Backend) launch1(module, name string, n int64, a *argBuf) error {
	return b.launch(module, name, [3]uint32{gridFor(n, b.sms), 1, 1}, 0, a)
}

// Synchronize waits for all queued work, on the compute stream and on the
// copy stream of staged uploads, and reports the first error a kernel
// recorded since the last synchronisation.
func (b *Backend) Synchronize() error {
	if err := b.checkOpen("synchronize"); err != nil {
		return err
	}
	err := b.do(func() error { return b.stream.Synchronize() })
	if err != nil {
		return b.errf("cuStreamSynchronize (a queued kernel or copy failed): %w", err)
	}
	if err := b.stage.synchronize(b); err != nil {
		return b.errf("synchronize: %w", err)
	}
	return b.takeKernelError()
}

// takeKernelError returns and clears the error word's report. Call only
// after synchronising.
func (b *Backend) takeKernelError() error {
	w := (*errWord)(b.errHost)
	code := atomic.LoadInt32(&w.Code)
	if code == 0 {
		return nil
	}
	dim, val, lim := w.Dim, w.Value, w.Limit
	*w = errWord{}
	switch code {
	case errDivZero:
		return b.errf("integer division by zero (reported by an earlier Div)")
	case errGatherIndex:
		return b.errf("gather: index %d is out of range for dimension %d of size %d (reported asynchronously)", val, dim, lim)
	case errScatterIndex:
		return b.errf("scatter_add: index %d is out of range for dimension %d of size %d (reported asynchronously)", val, dim, lim)
	case errLabel:
		return b.errf("cross_entropy: label %d of row %d is outside [0, %d); labels must be class indices (reported asynchronously)", val, dim, lim)
	}
	return b.errf("kernel error code %d", code)
}

// Close waits for queued work, releases the cached memory, the pinned
// staging memory, the kernel modules, the streams and the primary
// context. Buffers still alive must not be used afterwards. Closing twice
// is harmless.
func (b *Backend) Close() error {
	openMu.Lock()
	defer openMu.Unlock()
	if b.closed.Load() {
		return nil
	}
	var errs []error
	if err := b.Synchronize(); err != nil {
		errs = append(errs, err)
	}
	if err := b.alloc.emptyCache(); err != nil {
		errs = append(errs, err)
	}
	b.closed.Store(true)
	// Before the compute stream goes: uploads still in progress queue
	// waits on it, and close waits for them.
	if err := b.stage.close(b); err != nil {
		errs = append(errs, err)
	}
	err := b.do(func() error {
		var es []error
		b.modMu.Lock()
		for name, m := range b.mods {
			if e := m.Unload(); e != nil {
				es = append(es, fmt.Errorf("unloading module %s: %w", name, e))
			}
		}
		b.mods = map[string]cu.Module{}
		b.modMu.Unlock()
		if e := b.stream.Destroy(); e != nil {
			es = append(es, fmt.Errorf("destroying the stream: %w", e))
		}
		return errors.Join(es...)
	})
	if err != nil {
		errs = append(errs, err)
	}
	if err := hostFree(b.ctx, b.errHost); err != nil {
		errs = append(errs, fmt.Errorf("freeing the error word: %w", err))
	}
	if err := b.dev.ReleasePrimaryCtx(); err != nil {
		errs = append(errs, fmt.Errorf("releasing the primary context: %w", err))
	}
	delete(opened, b.index)
	if err := errors.Join(errs...); err != nil {
		return b.errf("close: %w", err)
	}
	return nil
}
