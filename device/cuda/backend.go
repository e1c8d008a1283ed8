package cuda

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/kernels"
)

// hardware is the driver over the GPU (driver_cu.go sets it during package
// initialisation when the package is built with the cuda tag); nil
// without the tag.
var hardware driver

// Provider selection, the only place that chooses a driver: with the cuda
// tag the GPU's, as before; without it cuda:N exists only when
// NABLA_CUDA=emulate asks for the PTX virtual machine (or UseEmulator is
// called later). Otherwise importing this package registers nothing.
func init() {
	switch {
	case hardware != nil:
		register(hardware, false)
	case os.Getenv("NABLA_CUDA") == "emulate":
		if err := UseEmulator(); err != nil {
			fmt.Fprintf(os.Stderr, "nabla: NABLA_CUDA=emulate: %v; no CUDA device is available\n", err)
		}
	}
}

var (
	regMu    sync.Mutex
	active   driver // the driver registered with package device; nil when none
	emulated bool   // active is the PTX virtual machine
)

// register makes d the driver of cuda:N, here and in package device.
func register(d driver, emu bool) {
	regMu.Lock()
	defer regMu.Unlock()
	registerLocked(d, emu)
}

func registerLocked(d driver, emu bool) {
	active, emulated = d, emu
	device.RegisterCUDA(provider{drv: d})
}

// UseEmulator makes cuda:N the PTX virtual machine in this process, for
// tests and for trying the CUDA code path without a GPU: the backend runs
// the same embedded PTX kernels, in pure Go. NABLA_CUDA=emulate does the
// same at start-up. Calling it again is harmless. It fails in a program
// built with the cuda tag, where cuda:N is the GPU.
func UseEmulator() error {
	regMu.Lock()
	defer regMu.Unlock()
	if emulated {
		return nil
	}
	if active != nil {
		return errors.New("cuda: UseEmulator: this program is built with the cuda tag and cuda:N is the GPU; the PTX virtual machine cannot replace it in the same process (build without the tag to emulate)")
	}
	registerLocked(&theVM, true)
	return nil
}

var _ device.Backend = (*Backend)(nil)

// provider opens the devices of one driver for package device.
type provider struct{ drv driver }

func (p provider) Count() int {
	n, err := p.drv.count()
	if err != nil {
		return 0
	}
	return n
}

func (p provider) Open(index int) (device.Backend, error) {
	b, err := open(p.drv, index)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Backend is the device.Backend of one CUDA GPU (or of the PTX virtual
// machine standing in for one, see UseEmulator). Obtain it with
// device.Get(device.CUDA(i)) (and a type assertion for the extra methods)
// or with Get.
type Backend struct {
	index    int
	drv      gpuDriver
	emulated bool
	stream   stream
	name     string
	major    int
	minor    int
	sms      int
	totalMem int64

	alloc *allocator
	stage stager // pinned staging ring and copy stream of Upload (pinned.go)

	errDev devicePtr   // the asynchronous error word (errword.go)
	errs   errReadback // ... and its readback

	// machineCode: load cubins where there are some for the device's
	// architecture (the GPU driver; not the PTX virtual machine, and not
	// with NABLA_CUDA_PTX=1).
	machineCode bool
	// tf32: the matmul code the device loads has the TF32 tensor-core
	// kernels (built for compute capability 8.0 or newer).
	tf32  bool
	modMu sync.Mutex
	mods  map[string]module
	loads []ModuleLoad
	fnMu  sync.RWMutex
	fns   map[fnKey]function

	gate gate // calls in flight into the driver; shut by Close (lifetime.go)
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

// Open starts using CUDA device index of the registered driver (the GPU
// with the cuda build tag, else the PTX virtual machine once UseEmulator
// or NABLA_CUDA=emulate selected it): it retains the device's primary
// context, creates the device's stream and the asynchronous error word.
// Kernel modules load on first use. Opening an open device returns the
// same backend.
func Open(index int) (*Backend, error) {
	regMu.Lock()
	d := active
	regMu.Unlock()
	if d == nil {
		return nil, fmt.Errorf("cuda: opening device %d: %w (or select the PTX virtual machine: NABLA_CUDA=emulate, cuda.UseEmulator)", index, device.ErrNoCUDA)
	}
	return open(d, index)
}

// open is Open on driver drv.
func open(drv driver, index int) (*Backend, error) {
	openMu.Lock()
	defer openMu.Unlock()
	if b, ok := opened[index]; ok && !b.gate.closed() {
		return b, nil
	}
	b, err := newBackend(drv, index)
	if err != nil {
		return nil, err
	}
	opened[index] = b
	return b, nil
}

// newBackend opens device index of drv as a new backend, outside the
// process's table of open devices.
func newBackend(drv driver, index int) (*Backend, error) {
	n, err := drv.count()
	if err != nil {
		return nil, fmt.Errorf("cuda: counting devices: %w", err)
	}
	if index < 0 || index >= n {
		return nil, fmt.Errorf("cuda: device %d does not exist (%d device(s))", index, n)
	}
	g, props, err := drv.open(index)
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", index, err)
	}
	b := &Backend{index: index, drv: g, emulated: props.Emulated, name: props.Name,
		major: props.Major, minor: props.Minor, sms: props.SMs, totalMem: props.TotalMem,
		machineCode: props.MachineCode && os.Getenv("NABLA_CUDA_PTX") != "1",
		mods:        map[string]module{}, fns: map[fnKey]function{}}
	var matmulArch int
	if _, matmulArch, err = kernels.Which(modMatMul, b.major, b.minor, b.machineCode); err != nil {
		err = fmt.Errorf("(%s): %w", b.name, err)
	} else if b.stream, err = g.newStream(); err != nil {
		err = fmt.Errorf("creating the stream: %w", err)
	} else if err = b.openErrWord(); err != nil {
		_ = g.destroyStream(b.stream)
	}
	if err != nil {
		_ = g.release()
		return nil, fmt.Errorf("cuda: device %d: %w", index, err)
	}
	b.tf32 = matmulArch >= 80
	b.alloc = newAllocator(b)
	return b, nil
}

// Device returns cuda:N.
func (b *Backend) Device() device.Device { return device.CUDA(b.index) }

// Name is the GPU's product name.
func (b *Backend) Name() string { return b.name }

// ComputeCapability returns the GPU's compute capability.
func (b *Backend) ComputeCapability() (major, minor int) { return b.major, b.minor }

// KernelCode says which code the backend loads for its kernel modules:
// "sm_90 machine code" on an H100, "sm_80 machine code" on an A100 or an
// RTX 4090, PTX that the driver JIT-compiles on GPUs without machine code
// of their own ("compute_70 PTX; matmul: compute_80 PTX" on a B200) and
// on the PTX virtual machine. Set NABLA_CUDA_PTX=1 to load PTX everywhere
// (to time or test the driver's JIT path).
func (b *Backend) KernelCode() string {
	var codes []string
	which := map[string][]string{}
	for _, mod := range kernels.Modules() {
		form, arch, err := kernels.Which(mod, b.major, b.minor, b.machineCode)
		if err != nil {
			return err.Error()
		}
		code := kernels.Image{Form: form, Arch: arch}.String()
		if which[code] == nil {
			codes = append(codes, code)
		}
		which[code] = append(which[code], mod)
	}
	// The code most modules load first, then the exceptions by module.
	sort.SliceStable(codes, func(i, j int) bool { return len(which[codes[i]]) > len(which[codes[j]]) })
	out := codes[0]
	for _, code := range codes[1:] {
		out += "; " + strings.Join(which[code], ", ") + ": " + code
	}
	return out
}

// ModuleLoad records the loading of one kernel module.
type ModuleLoad struct {
	// Module is the kernel family, as "matmul".
	Module string
	// Code is what was loaded, as "sm_90 machine code" or "compute_70
	// PTX".
	Code string
	// PTX is set when the driver had to JIT-compile the module.
	PTX bool
	// Took is the time cuModuleLoadData took, JIT compilation included.
	Took time.Duration
}

// LoadedModules returns the kernel modules loaded so far, in the order
// they were loaded (on first use of one of their kernels).
func (b *Backend) LoadedModules() []ModuleLoad {
	b.modMu.Lock()
	defer b.modMu.Unlock()
	return slices.Clone(b.loads)
}

// Multiprocessors is the GPU's number of streaming multiprocessors.
func (b *Backend) Multiprocessors() int { return b.sms }

// TotalMemory is the GPU's memory size in bytes.
func (b *Backend) TotalMemory() int64 { return b.totalMem }

// Emulated reports whether the device is the PTX virtual machine (see
// UseEmulator) rather than a GPU.
func (b *Backend) Emulated() bool { return b.emulated }

func (b *Backend) String() string {
	emu := ""
	if b.emulated {
		emu = "; emulated: PTX virtual machine"
	}
	return fmt.Sprintf("%v (%s, sm_%d%d, kernels: %s%s)", b.Device(), b.name, b.major, b.minor, b.KernelCode(), emu)
}

// Describe reports the GPU's name, compute capability, memory and
// multiprocessors, and whether it is the PTX virtual machine.
func (b *Backend) Describe() (device.Info, error) {
	return device.Info{
		Device:            b.Device(),
		Name:              b.name,
		MemoryBytes:       uint64(b.totalMem),
		ComputeCapability: fmt.Sprintf("%d.%d", b.major, b.minor),
		Cores:             b.sms,
		Emulated:          b.emulated,
		Kernels:           b.KernelCode(),
	}, nil
}

var _ device.Describer = (*Backend)(nil)

// errf formats an error of this device.
func (b *Backend) errf(format string, args ...any) error {
	return fmt.Errorf("device: %v: "+format, append([]any{b.Device()}, args...)...)
}

// errClosed is what every call on a closed backend wraps.
var errClosed = errors.New("the backend is closed")

// function returns kernel name of module, loading the module on first use.
func (b *Backend) function(module, name string) (function, error) {
	key := fnKey{module, name}
	b.fnMu.RLock()
	fn, ok := b.fns[key]
	b.fnMu.RUnlock()
	if ok {
		return fn, nil
	}
	mod, err := b.module(module)
	if err != nil {
		return function{}, err
	}
	fn, err = b.drv.function(mod, name)
	if err != nil {
		return function{}, b.errf("kernel %s.%s: cuModuleGetFunction: %w", module, name, err)
	}
	b.fnMu.Lock()
	b.fns[key] = fn
	b.fnMu.Unlock()
	return fn, nil
}

// module loads a kernel module, once per device: machine code for the
// device's architecture where there is some, else PTX (kernels.Choose).
// The driver JIT-compiles PTX here, for seconds on a cold cache, while
// every other launch waits for modMu.
func (b *Backend) module(name string) (module, error) {
	b.modMu.Lock()
	defer b.modMu.Unlock()
	if m, ok := b.mods[name]; ok {
		return m, nil
	}
	im, err := kernels.Choose(name, b.major, b.minor, b.machineCode)
	if err != nil {
		return module{}, b.errf("%w", err)
	}
	start := time.Now()
	m, err := b.drv.loadModule(im.Data)
	if err != nil {
		return module{}, b.errf("loading kernel module %q (%s) on %s (compute capability %d.%d): %w",
			name, im, b.name, b.major, b.minor, err)
	}
	b.mods[name] = m
	b.loads = append(b.loads, ModuleLoad{Module: name, Code: im.String(), PTX: im.Form == kernels.PTX, Took: time.Since(start)})
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
	if err := b.enter(name); err != nil {
		return err
	}
	defer b.leave()
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
	if err := b.drv.launch(fn, grid, threads, smem, b.stream, a); err != nil {
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
	if err := b.enter("synchronize"); err != nil {
		return err
	}
	defer b.leave()
	return b.synchronize()
}

// synchronize is Synchronize inside the gate.
func (b *Backend) synchronize() error {
	c, rerr := b.queueErrRead()
	if err := b.drv.syncStream(b.stream); err != nil {
		if rerr == nil {
			b.dropErrRead(c)
		}
		return b.errf("cuStreamSynchronize (a queued kernel or copy failed): %w", err)
	}
	var kerr error
	if rerr != nil {
		kerr = b.errf("synchronize: %w", rerr)
	} else {
		kerr = b.takeKernelError(c)
	}
	if err := b.stage.synchronize(b); err != nil {
		return errors.Join(kerr, b.errf("synchronize: %w", err))
	}
	return kerr
}

// Close waits for the calls in progress on other goroutines (launches,
// copies, synchronisations, allocations) and for the queued work, then
// releases the cached memory, the pinned staging memory, the kernel
// modules, the streams, the error word and the primary context. Every
// later call fails with an error that wraps errClosed (Alloc, launches,
// Upload, Download, Synchronize, Free, ...); buffers still alive must not
// be used, and their memory goes with the context (their cleanups only
// update the counters). Closing twice is harmless. Close must not be
// called from inside another call on the same backend.
func (b *Backend) Close() error {
	openMu.Lock()
	defer openMu.Unlock()
	if !b.gate.close() {
		return nil
	}
	var errs []error
	if err := b.synchronize(); err != nil {
		errs = append(errs, err)
	}
	// Before the compute stream goes: the copy stream's pending copies
	// end in waits queued on it.
	if err := b.stage.close(b); err != nil {
		errs = append(errs, err)
	}
	if err := b.alloc.shutdown(); err != nil {
		errs = append(errs, err)
	}
	b.modMu.Lock()
	for name, m := range b.mods {
		if err := b.drv.unloadModule(m); err != nil {
			errs = append(errs, fmt.Errorf("unloading module %s: %w", name, err))
		}
	}
	b.mods = map[string]module{}
	b.modMu.Unlock()
	if err := b.drv.destroyStream(b.stream); err != nil {
		errs = append(errs, fmt.Errorf("destroying the stream: %w", err))
	}
	if err := b.closeErrWord(); err != nil {
		errs = append(errs, err)
	}
	if err := b.drv.release(); err != nil {
		errs = append(errs, fmt.Errorf("releasing the primary context: %w", err))
	}
	if opened[b.index] == b {
		delete(opened, b.index)
	}
	if err := errors.Join(errs...); err != nil {
		return b.errf("close: %w", err)
	}
	return nil
}
