package ptxvm

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Config describes the virtual GPU.
type Config struct {
	Name     string
	Major    int // compute capability; 9.0 by default (an H100/H200)
	Minor    int
	SMs      int   // reported multiprocessors (grid sizes follow it); 8 by default
	TotalMem int64 // bytes of device memory; 8 GiB by default
	// Workers is the number of goroutines that run blocks of a launch in
	// parallel (GOMAXPROCS by default).
	Workers int
	// NoRaceCheck turns the shared-memory race detector off.
	NoRaceCheck bool
}

// Limits of an sm_90 device, checked at every launch as the driver does.
const (
	MaxThreadsPerBlock  = 1024
	MaxBlockDimXY       = 1024
	MaxBlockDimZ        = 64
	MaxGridDimX         = 1<<31 - 1
	MaxGridDimYZ        = 65535
	DefaultSharedLimit  = 48 << 10  // dynamic + static shared bytes without the opt-in attribute
	MaxSharedOptin      = 227 << 10 // with cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)
	MaxParamBytes       = 4096
	MaxLocalBytesPerThr = 512 << 10
)

// Device is a virtual GPU: memory, modules, streams and events.
type Device struct {
	cfg       Config
	mem       *memory
	workers   int
	raceCheck bool

	mu      sync.Mutex // host-side state: streams' queues, events, pinned memory
	streams []*Stream
	pinned  map[uintptr][]byte

	execMu sync.Mutex // one goroutine runs queued work at a time

	launches atomic.Uint64
	stats    Stats
	statsMu  sync.Mutex
	launched map[string]int
}

// Stats counts the work the device has done.
type Stats struct {
	Launches         uint64
	WarpInstructions uint64 // instructions issued per warp
	ThreadInstrs     uint64 // ... times the lanes that executed them
	Blocks           uint64
	CopiesHtoD       uint64 // host-to-device copies queued
	CopiesDtoH       uint64 // device-to-host copies queued
	Allocs           uint64 // Alloc calls that succeeded
}

// New creates a virtual GPU.
func New(cfg Config) *Device {
	if cfg.Major == 0 {
		cfg.Major, cfg.Minor = 9, 0
	}
	if cfg.SMs <= 0 {
		cfg.SMs = 8
	}
	if cfg.TotalMem <= 0 {
		cfg.TotalMem = 8 << 30
	}
	if cfg.Name == "" {
		cfg.Name = fmt.Sprintf("nabla PTX virtual machine (sm_%d%d)", cfg.Major, cfg.Minor)
	}
	d := &Device{cfg: cfg, mem: newMemory(cfg.TotalMem), pinned: map[uintptr][]byte{}, launched: map[string]int{}}
	d.workers = cfg.Workers
	if d.workers <= 0 {
		d.workers = defaultWorkers
	}
	d.raceCheck = !cfg.NoRaceCheck
	return d
}

// Config returns the device's configuration.
func (d *Device) Config() Config { return d.cfg }

// Stats returns the work counters.
func (d *Device) Stats() Stats {
	d.statsMu.Lock()
	defer d.statsMu.Unlock()
	s := d.stats
	s.Launches = d.launches.Load()
	return s
}

func (d *Device) count(f func(*Stats)) {
	d.statsMu.Lock()
	f(&d.stats)
	d.statsMu.Unlock()
}

// Launched returns how many times each kernel was launched.
func (d *Device) Launched() map[string]int {
	d.statsMu.Lock()
	defer d.statsMu.Unlock()
	out := make(map[string]int, len(d.launched))
	for k, v := range d.launched {
		out[k] = v
	}
	return out
}

// Alloc allocates device memory (cuMemAlloc).
func (d *Device) Alloc(size int64) (uint64, error) {
	if size <= 0 {
		return 0, newError(CodeInvalidValue, "cuMemAlloc of %d bytes", size)
	}
	a, err := d.mem.alloc(size, "device", true)
	if err != nil {
		return 0, newError(CodeOutOfMemory, "out of memory: %d bytes requested, %d of %d in use", size, d.mem.used, d.mem.limit)
	}
	d.count(func(s *Stats) { s.Allocs++ })
	return a.addr, nil
}

// Free frees device memory (cuMemFree).
func (d *Device) Free(addr uint64) error {
	if err := d.mem.free(addr, true); err != nil {
		return newError(CodeInvalidValue, "cuMemFree: %v", err)
	}
	return nil
}

// HostAlloc allocates page-locked host memory (cuMemHostAlloc): copies
// from it read it when they run, not when they are queued.
func (d *Device) HostAlloc(size int64) (unsafe.Pointer, error) {
	if size <= 0 {
		return nil, newError(CodeInvalidValue, "cuMemHostAlloc of %d bytes", size)
	}
	b := make([]byte, size)
	p := unsafe.Pointer(&b[0])
	d.mu.Lock()
	d.pinned[uintptr(p)] = b
	d.mu.Unlock()
	return p, nil
}

// HostFree frees memory of HostAlloc.
func (d *Device) HostFree(p unsafe.Pointer) error {
	d.mu.Lock()
	_, ok := d.pinned[uintptr(p)]
	delete(d.pinned, uintptr(p))
	d.mu.Unlock()
	if !ok {
		return newError(CodeInvalidValue, "cuMemFreeHost: %p is not page-locked memory of this device", p)
	}
	return nil
}

// pinnedRange reports whether [p, p+n) lies in page-locked memory.
func (d *Device) pinnedRange(p unsafe.Pointer, n int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for start, b := range d.pinned {
		if uintptr(p) >= start && uintptr(p)+uintptr(n) <= start+uintptr(len(b)) {
			return true
		}
	}
	return false
}

// Module is a loaded PTX module.
type Module struct {
	dev        *Device
	text       *moduleText
	funcByName map[string]*funcDecl
	sharedVars map[string]*varDecl
	globalAddr map[string]globalVar
	globals    []uint64
	mu         sync.Mutex
	funcs      map[string]*Function
	unloaded   atomic.Bool
}

type globalVar struct {
	addr uint64
	size int
}

// Function is a kernel of a module.
type Function struct {
	mod        *Module
	prog       *program
	maxDynamic int // the MAX_DYNAMIC_SHARED_SIZE_BYTES attribute
}

// Name returns the kernel's name.
func (f *Function) Name() string { return f.prog.name }

// LoadModule parses PTX text (cuModuleLoadData) and maps its .global
// variables. Kernels are compiled when first looked up.
func (d *Device) LoadModule(ptx string) (*Module, error) {
	t, err := parseModule(ptx)
	if err != nil {
		return nil, newError(CodeInvalidPTX, "ptxvm: PTX parse error: %v", err)
	}
	m := &Module{dev: d, text: t, funcByName: map[string]*funcDecl{}, sharedVars: map[string]*varDecl{},
		globalAddr: map[string]globalVar{}, funcs: map[string]*Function{}}
	if t.target != "" {
		var arch int
		if _, err := fmt.Sscanf(t.target, "sm_%d", &arch); err != nil || arch > d.cfg.Major*10+d.cfg.Minor {
			return nil, newError(CodeInvalidPTX, "ptxvm: PTX target %s is not supported by a device of compute capability %d.%d", t.target, d.cfg.Major, d.cfg.Minor)
		}
	}
	for _, f := range t.funcs {
		if prev, ok := m.funcByName[f.name]; ok && prev.defined && f.defined {
			return nil, newError(CodeInvalidPTX, "ptxvm: function %s defined twice", f.name)
		}
		if prev, ok := m.funcByName[f.name]; !ok || !prev.defined {
			m.funcByName[f.name] = f
		}
	}
	for _, v := range t.globals {
		switch v.space {
		case "shared":
			m.sharedVars[v.name] = v
		case "global", "const":
			size := max(v.size(), 1)
			a, err := d.mem.alloc(int64(size), "module global "+v.name, false)
			if err != nil {
				return nil, newError(CodeOutOfMemory, "ptxvm: mapping %s: %v", v.name, err)
			}
			copy(a.data, v.init)
			m.globalAddr[v.name] = globalVar{addr: a.addr, size: size}
			m.globals = append(m.globals, a.addr)
		default:
			return nil, newError(CodeInvalidPTX, "ptxvm: module-level variable %s in .%s", v.name, v.space)
		}
	}
	return m, nil
}

// Entries returns the names of the module's kernels, sorted.
func (m *Module) Entries() []string {
	var out []string
	for name, f := range m.funcByName {
		if f.entry && f.defined {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Function looks a kernel up (cuModuleGetFunction), compiling it on
// first use.
func (m *Module) Function(name string) (*Function, error) {
	if m.unloaded.Load() {
		return nil, newError(CodeInvalidHandle, "ptxvm: module was unloaded")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.funcs[name]; ok {
		return f, nil
	}
	fd := m.funcByName[name]
	if fd == nil || !fd.entry || !fd.defined {
		return nil, newError(CodeNotFound, "ptxvm: no kernel named %q in the module", name)
	}
	p, err := compileKernel(m, name)
	if err != nil {
		return nil, newError(CodeInvalidPTX, "ptxvm: compiling %s: %v", name, err)
	}
	f := &Function{mod: m, prog: p}
	m.funcs[name] = f
	return f, nil
}

// Unload unloads the module (cuModuleUnload); its functions can no longer
// be launched and its globals are unmapped.
func (m *Module) Unload() error {
	if m.unloaded.Swap(true) {
		return newError(CodeInvalidHandle, "ptxvm: module unloaded twice")
	}
	for _, a := range m.globals {
		_ = m.dev.mem.free(a, false)
	}
	return nil
}

// SetMaxDynamicShared sets the MAX_DYNAMIC_SHARED_SIZE_BYTES attribute.
func (f *Function) SetMaxDynamicShared(bytes int) error {
	if bytes < 0 || bytes+f.prog.sharedStatic > MaxSharedOptin {
		return newError(CodeInvalidValue, "ptxvm: %d bytes of dynamic shared memory exceed the %d-byte limit", bytes, MaxSharedOptin)
	}
	f.maxDynamic = bytes
	return nil
}

// checkLaunch validates a launch as the driver does on an sm_90 device.
func (d *Device) checkLaunch(f *Function, grid, block [3]uint32, smem uint32, params []byte, offsets []uint32) error {
	p := f.prog
	if f.mod.unloaded.Load() {
		return newError(CodeInvalidHandle, "ptxvm: launch of %s: its module was unloaded", p.name)
	}
	if f.mod.dev != d {
		return newError(CodeInvalidHandle, "ptxvm: launch of %s: the function belongs to another device", p.name)
	}
	for i, g := range grid {
		lim := uint32(MaxGridDimYZ)
		if i == 0 {
			lim = MaxGridDimX
		}
		if g == 0 || g > lim {
			return newError(CodeInvalidValue, "ptxvm: launch of %s: grid dimension %d is %d (must be 1..%d)", p.name, i, g, lim)
		}
	}
	threads := uint64(block[0]) * uint64(block[1]) * uint64(block[2])
	if block[0] == 0 || block[1] == 0 || block[2] == 0 || block[0] > MaxBlockDimXY || block[1] > MaxBlockDimXY || block[2] > MaxBlockDimZ || threads > MaxThreadsPerBlock {
		return newError(CodeInvalidValue, "ptxvm: launch of %s: block %v (at most %d threads, %d×%d×%d)", p.name, block, MaxThreadsPerBlock, MaxBlockDimXY, MaxBlockDimXY, MaxBlockDimZ)
	}
	if mx := p.maxntid; mx[0] > 0 {
		lim := uint64(mx[0]) * uint64(max(mx[1], 1)) * uint64(max(mx[2], 1))
		if threads > lim {
			return newError(CodeInvalidValue, "ptxvm: launch of %s: %d threads per block exceed its .maxntid %v", p.name, threads, mx)
		}
	}
	if rq := p.reqntid; rq[0] > 0 && (int(block[0]) != rq[0] || int(block[1]) != max(rq[1], 1) || int(block[2]) != max(rq[2], 1)) {
		return newError(CodeInvalidValue, "ptxvm: launch of %s: block %v differs from its .reqntid %v", p.name, block, rq)
	}
	limit := DefaultSharedLimit
	if f.maxDynamic > 0 {
		limit = max(limit, f.maxDynamic+p.sharedStatic)
	}
	if total := p.sharedStatic + int(smem); total > limit {
		return newError(CodeInvalidValue, "ptxvm: launch of %s: %d bytes of shared memory (%d static + %d dynamic) exceed the limit of %d; raise it with the MAX_DYNAMIC_SHARED_SIZE_BYTES attribute (at most %d)",
			p.name, total, p.sharedStatic, smem, limit, MaxSharedOptin)
	}
	if smem > 0 && !p.dynShared {
		return newError(CodeInvalidValue, "ptxvm: launch of %s: %d bytes of dynamic shared memory for a kernel that declares no extern shared array", p.name, smem)
	}
	if p.localSize > MaxLocalBytesPerThr {
		return newError(CodeLaunchOutOfRes, "ptxvm: launch of %s: %d bytes of local memory per thread", p.name, p.localSize)
	}
	if len(params) > MaxParamBytes {
		return newError(CodeInvalidValue, "ptxvm: launch of %s: %d bytes of parameters exceed %d", p.name, len(params), MaxParamBytes)
	}
	if len(offsets) != len(p.params) {
		return newError(CodeInvalidValue, "ptxvm: launch of %s: %d arguments for %d parameters", p.name, len(offsets), len(p.params))
	}
	for i, pi := range p.params {
		if int(offsets[i]) != pi.offset {
			return newError(CodeInvalidValue, "ptxvm: launch of %s: argument %d (%s) packed at offset %d, the kernel expects it at %d (size %d, alignment %d)",
				p.name, i, pi.name, offsets[i], pi.offset, pi.size, pi.align)
		}
		end := len(params)
		if i+1 < len(offsets) {
			end = int(offsets[i+1])
		}
		if end-int(offsets[i]) < pi.size {
			return newError(CodeInvalidValue, "ptxvm: launch of %s: argument %d (%s) has %d bytes, the kernel takes %d", p.name, i, pi.name, end-int(offsets[i]), pi.size)
		}
	}
	if len(params) < p.paramSize {
		return newError(CodeInvalidValue, "ptxvm: launch of %s: %d bytes of arguments, the kernel takes %d", p.name, len(params), p.paramSize)
	}
	return nil
}

// Launch validates and queues a kernel launch (cuLaunchKernel). params
// holds the packed arguments, offsets the offset of each; both are
// copied.
func (d *Device) Launch(f *Function, grid, block [3]uint32, smem uint32, s *Stream, params []byte, offsets []uint32) error {
	if err := d.checkLaunch(f, grid, block, smem, params, offsets); err != nil {
		return err
	}
	p := f.prog
	// The extern shared array starts 16-byte aligned after the static
	// variables (compileKernel placed its addresses there).
	shared := p.sharedStatic
	if p.dynShared {
		shared = alignUp(p.sharedStatic, 16) + int(smem)
	}
	l := &launch{dev: d, prog: p, grid: grid, block: block, dyn: int(smem),
		shared: shared, params: append([]byte(nil), params[:p.paramSize]...)}
	return s.enqueue(op{kind: opLaunch, launch: l})
}

// runLaunch runs a queued launch.
func (d *Device) runLaunch(l *launch) error {
	l.nlaunch = d.launches.Add(1)
	d.statsMu.Lock()
	d.launched[l.prog.name]++
	d.statsMu.Unlock()
	f := l.run()
	if f != nil {
		return faultError(f)
	}
	return nil
}

var (
	sharedOnce sync.Once
	sharedDev  *Device
)

// Shared returns the process's default virtual GPU, created on first use
// with the default Config: the one device/cuda's emulator driver serves
// as cuda:0, so that tests can look at what it ran (Launched, Stats).
func Shared() *Device {
	sharedOnce.Do(func() { sharedDev = New(Config{}) })
	return sharedDev
}
