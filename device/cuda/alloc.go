package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/nabla-go/nabla/device"
)

// MemoryStats describes a device's caching allocator.
type MemoryStats struct {
	Allocated     int64 // bytes in live buffers (rounded to size classes)
	Reserved      int64 // bytes held from the driver: Allocated plus the cache
	PeakAllocated int64
	PeakReserved  int64
	Allocs        int64 // buffers handed out
	CacheHits     int64 // ... of which from the cache
	Frees         int64 // buffers returned (collected or freed explicitly)
	DeviceAllocs  int64 // cuMemAlloc calls
	DeviceFrees   int64 // cuMemFree calls
	OOMRetries    int64 // allocations that took the out-of-memory path (collections, cache flush)
}

func (s MemoryStats) String() string {
	return fmt.Sprintf("allocated %s (peak %s), reserved %s (peak %s), %d allocs (%d from cache), %d frees, %d cuMemAlloc, %d cuMemFree",
		fmtBytes(s.Allocated), fmtBytes(s.PeakAllocated), fmtBytes(s.Reserved), fmtBytes(s.PeakReserved),
		s.Allocs, s.CacheHits, s.Frees, s.DeviceAllocs, s.DeviceFrees)
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// block is one cuMemAlloc allocation of a size class.
type block struct {
	ptr  devicePtr
	size int64
}

// allocator is the caching allocator of one device (see the package
// documentation).
type allocator struct {
	b     *Backend
	mu    sync.Mutex
	free  map[int64][]*block
	stats MemoryStats
	limit atomic.Int64 // 0: no limit beyond the device's memory
	// closed is set by shutdown: the blocks of buffers freed afterwards
	// went with the context.
	closed bool

	// reclaimMu serialises the out-of-memory path (getAfterOOM): one
	// goroutine collects garbage while the others wait and then find
	// its results in the cache.
	reclaimMu sync.Mutex

	// Pacing of the collections noteAlloc starts (see gcMinBudget): the
	// bytes handed out since the last collection, the live set after it,
	// whether noteAlloc's collection runs, and how many it ran.
	sinceGC     atomic.Int64
	liveAfterGC atomic.Int64
	gcRunning   atomic.Bool
	collections atomic.Int64
}

func newAllocator(b *Backend) *allocator {
	a := &allocator{b: b, free: map[int64][]*block{}}
	watchGC(weak.Make(a))
	return a
}

// buffer is a device.Buffer in GPU memory.
type buffer struct {
	be      *Backend
	dt      device.DType
	n       int
	blk     *block // nil for empty buffers
	cleanup runtime.Cleanup
	freed   atomic.Bool
}

func (x *buffer) DType() device.DType { return x.dt }
func (x *buffer) Len() int            { return x.n }

// ptr is the buffer's device address (0 when empty).
func (x *buffer) ptr() uintptr {
	if x.blk == nil {
		return 0
	}
	return uintptr(x.blk.ptr)
}

var errOOM = errors.New("out of memory")

// Alloc returns a buffer of n elements of dt from the cache, or from the
// driver when the cache has no block of its size class.
func (b *Backend) Alloc(dt device.DType, n int) (device.Buffer, error) {
	if err := b.enter("alloc"); err != nil {
		return nil, err
	}
	defer b.leave()
	if !dt.Valid() {
		return nil, b.errf("alloc: unknown dtype %v", dt)
	}
	if n < 0 || n > 1<<40 {
		return nil, b.errf("alloc: cannot allocate %d elements of %v", n, dt)
	}
	buf := &buffer{be: b, dt: dt, n: n}
	if n == 0 {
		return buf, nil
	}
	blk, err := b.alloc.get(int64(n) * int64(dt.Size()))
	if err != nil {
		return nil, err
	}
	buf.blk = blk
	al := b.alloc
	buf.cleanup = runtime.AddCleanup(buf, func(blk *block) { al.put(blk) }, blk)
	al.noteAlloc(blk.size)
	return buf, nil
}

// Pacing of the collections noteAlloc starts. The Go collector does not
// see device memory: a dropped tensor's block comes back only when a
// collection finds its buffer unreachable, and the Go heap may grow too
// slowly to start one (a 100 MiB activation is a 64-byte buffer struct to
// the Go pacer). So the allocator starts collections itself, paced as
// GOGC=100 paces the Go heap: when the bytes handed out since the last
// collection exceed the bytes still allocated after it (the live set). A
// training loop then holds about twice its live set, and the pace follows
// the workload instead of the device: the former rule, a collection per
// eighth of the device's memory, let 17.6 GB of garbage accumulate on an
// H200 whatever the model.
//
// "The last collection" is any collection, the Go pacer's too: a
// sentinel object's cleanup tells the allocator about each one
// (watchGC), so a program whose Go heap is busy enough to collect often
// anyway (or the PTX virtual machine, whose device memory is Go memory)
// pays for no extra collections. The live set is the fewest bytes
// allocated since that collection began: the cleanups it queued free
// the garbage a little later, and explicit frees shrink it too.
//
// Two bounds keep the rule sensible at the ends:
//
//   - gcMinBudget: with a small live set (a small model, the first steps)
//     a collection every few allocations would cost a full mark of the Go
//     heap for a few bytes of device memory each time; below 64 MiB (or
//     an eighth of a smaller device or limit) garbage waits;
//   - half the headroom: with a live set above a third of the device (or
//     limit), the budget is half of what the live set leaves free, so
//     that the other half remains for the allocations made while the
//     collection and its cleanups run. When they run out anyway, the
//     out-of-memory path collects before it fails (getAfterOOM).
const gcMinBudget = 64 << 20

// gcBudget is the bytes noteAlloc lets through between collections for a
// live set of live bytes.
func (a *allocator) gcBudget(live int64) int64 {
	capacity := a.b.totalMem
	if l := a.limitBytes(); l > 0 {
		capacity = l
	}
	return max(min(gcMinBudget, capacity/8), min(live, (capacity-live)/2))
}

// noteAlloc counts size bytes handed out and starts a background
// collection when the budget since the last one is spent (see
// gcMinBudget). At most one runs at a time.
func (a *allocator) noteAlloc(size int64) {
	if a.sinceGC.Add(size) <= a.gcBudget(a.liveAfterGC.Load()) || !a.gcRunning.CompareAndSwap(false, true) {
		return
	}
	a.sinceGC.Store(0)
	go func() {
		defer a.gcRunning.Store(false)
		runtime.GC()
		a.collections.Add(1)
	}()
}

// gcSentinel is the object whose cleanup reports a collection. It holds
// a pointer so that it is never a tiny allocation (the runtime may batch
// tiny objects and run their cleanups late or never).
type gcSentinel struct{ _ *byte }

// watchGC makes the next collection call a.sawGC, and each such call
// watch for the one after, for as long as the allocator is reachable: the
// cleanup holds only a weak pointer to it.
func watchGC(a weak.Pointer[allocator]) {
	runtime.AddCleanup(new(gcSentinel), func(a weak.Pointer[allocator]) {
		if al := a.Value(); al != nil && al.sawGC() {
			watchGC(a)
		}
	}, a)
}

// sawGC starts a new pacing period after a collection; false once the
// allocator is closed (watching stops).
func (a *allocator) sawGC() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sinceGC.Store(0)
	a.liveAfterGC.Store(a.stats.Allocated) // lowered by put
	return !a.closed
}

func (a *allocator) limitBytes() int64 { return a.limit.Load() }

// Free returns buf's memory to the cache at once instead of when the
// garbage collector finds it unreachable. buf, and every tensor using it,
// must not be used afterwards. Work already queued on it completes first
// (the stream orders it before any later use of the memory). After Close
// the memory is already gone with the context: Free only counts it out
// and reports errClosed.
func (b *Backend) Free(buf device.Buffer) error {
	x, ok := buf.(*buffer)
	if !ok || x.be != b {
		return b.errf("free: buffer %T does not belong to this device", buf)
	}
	if x.blk != nil && x.freed.CompareAndSwap(false, true) {
		x.cleanup.Stop()
		b.alloc.put(x.blk)
	}
	if b.gate.closed() {
		return b.errf("free: %w", errClosed)
	}
	return nil
}

// MemoryStats returns the allocator's counters.
func (b *Backend) MemoryStats() MemoryStats {
	b.alloc.mu.Lock()
	defer b.alloc.mu.Unlock()
	return b.alloc.stats
}

// ResetPeakStats sets the peaks to the current values.
func (b *Backend) ResetPeakStats() {
	b.alloc.mu.Lock()
	defer b.alloc.mu.Unlock()
	b.alloc.stats.PeakAllocated = b.alloc.stats.Allocated
	b.alloc.stats.PeakReserved = b.alloc.stats.Reserved
}

// EmptyCache returns every cached (unused) block to the driver. It waits
// for queued work first, since kernels of a block's previous owner may
// still be running.
func (b *Backend) EmptyCache() error {
	if err := b.enter("empty cache"); err != nil {
		return err
	}
	defer b.leave()
	return b.alloc.emptyCache()
}

// SetMemoryLimit caps the bytes the allocator reserves from the driver
// (0: no cap); beyond it allocations take the out-of-memory path. Useful to
// share a GPU, and to test.
func (b *Backend) SetMemoryLimit(bytes int64) {
	b.alloc.limit.Store(max(bytes, 0))
}

// Bounds of the out-of-memory path: it collects garbage at most
// reclaimRounds times and waits for cleanups at most reclaimWait in all
// before it gives up.
const (
	reclaimRounds = 8
	reclaimWait   = 2 * time.Second
)

func (a *allocator) get(bytes int64) (*block, error) {
	size := classSize(bytes)
	if blk := a.fromCache(size); blk != nil {
		return blk, nil
	}
	blk, err := a.fromDriver(size)
	if errors.Is(err, errOOM) {
		return a.getAfterOOM(bytes, size)
	}
	return blk, err
}

// getAfterOOM is get once the driver (or the memory limit) said no: it
// lets the garbage collector return the blocks of unreachable buffers,
// for as long as collections keep finding garbage, then releases the
// whole cache to the driver and tries a last time. A collection returns
// memory only through cleanups that run after it, on the runtime's
// cleanup goroutines, possibly behind slow cleanups of other packages,
// and memory reachable only from a finalizer's object or a cleanup's
// argument needs one more collection after those ran; so each round
// waits until every cleanup and finalizer the collection queued has run
// (collect), and the rounds go on while a collection queues any.
func (a *allocator) getAfterOOM(bytes, size int64) (*block, error) {
	a.reclaimMu.Lock()
	defer a.reclaimMu.Unlock()
	a.mu.Lock()
	a.stats.OOMRetries++
	a.mu.Unlock()
	retry := func() (*block, error) {
		if blk := a.fromCache(size); blk != nil {
			return blk, nil
		}
		return a.fromDriver(size)
	}
	// Another goroutine may have reclaimed memory while this one waited
	// for reclaimMu.
	if blk, err := retry(); !errors.Is(err, errOOM) {
		return blk, err
	}
	deadline := time.Now().Add(reclaimWait)
	a.sinceGC.Store(0)
	rounds := 0
	for rounds < reclaimRounds && time.Now().Before(deadline) {
		frees := a.frees()
		found := collect(deadline)
		rounds++
		if blk := a.fromCache(size); blk != nil {
			return blk, nil
		}
		if found == 0 && a.frees() == frees {
			break // the collection found nothing that could return memory
		}
	}
	if err := a.emptyCache(); err != nil {
		return nil, err
	}
	blk, err := retry()
	if errors.Is(err, errOOM) {
		return nil, a.oomError(bytes, size, rounds, err)
	}
	return blk, err
}

// oomError reports a failed allocation with the allocator's state, as
// PyTorch's message does. err wraps errOOM.
func (a *allocator) oomError(bytes, size int64, rounds int, err error) error {
	st := a.b.MemoryStats()
	limit := ""
	if l := a.limitBytes(); l > 0 {
		limit = "; limit " + fmtBytes(l)
	}
	return a.b.errf("out of memory: tried to allocate %s (%d bytes, a %s block); %s total; %s allocated by tensors; %s reserved in cache%s "+
		"(after %d garbage collection%s and emptying the cache). Free tensors that are no longer needed (Backend.Free), reduce the batch size, or raise the memory limit: %w",
		fmtBytes(bytes), bytes, fmtBytes(size), fmtBytes(a.b.totalMem), fmtBytes(st.Allocated), fmtBytes(st.Reserved-st.Allocated), limit, rounds, plural(rounds), err)
}

func (a *allocator) fromCache(size int64) *block {
	a.mu.Lock()
	defer a.mu.Unlock()
	list := a.free[size]
	if len(list) == 0 {
		return nil
	}
	blk := list[len(list)-1]
	a.free[size] = list[:len(list)-1]
	a.stats.Allocs++
	a.stats.CacheHits++
	a.stats.Allocated += size
	a.stats.PeakAllocated = max(a.stats.PeakAllocated, a.stats.Allocated)
	return blk
}

func (a *allocator) fromDriver(size int64) (*block, error) {
	a.mu.Lock()
	if l := a.limit.Load(); l > 0 && a.stats.Reserved+size > l {
		a.mu.Unlock()
		return nil, fmt.Errorf("%w (memory limit)", errOOM)
	}
	a.mu.Unlock()
	ptr, err := a.b.drv.memAlloc(size)
	if err != nil {
		if errors.Is(err, errDriverOutOfMemory) {
			return nil, fmt.Errorf("%w (cuMemAlloc: %v)", errOOM, err)
		}
		return nil, a.b.errf("cuMemAlloc(%d): %w", size, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.Allocs++
	a.stats.DeviceAllocs++
	a.stats.Allocated += size
	a.stats.Reserved += size
	a.stats.PeakAllocated = max(a.stats.PeakAllocated, a.stats.Allocated)
	a.stats.PeakReserved = max(a.stats.PeakReserved, a.stats.Reserved)
	return &block{ptr: ptr, size: size}, nil
}

// put returns a block to the cache; after shutdown it only counts it
// out (the memory went with the context).
func (a *allocator) put(blk *block) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.Frees++
	a.stats.Allocated -= blk.size
	if a.closed {
		a.stats.Reserved -= blk.size
		return
	}
	a.free[blk.size] = append(a.free[blk.size], blk)
	if a.stats.Allocated < a.liveAfterGC.Load() {
		a.liveAfterGC.Store(a.stats.Allocated)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (a *allocator) frees() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats.Frees
}

// shutdown releases the cache for Close, once no call is in flight, and
// makes later frees only count.
func (a *allocator) shutdown() error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	return a.emptyCache()
}

// emptyCache frees every cached block.
func (a *allocator) emptyCache() error {
	a.mu.Lock()
	var blocks []*block
	for size, list := range a.free {
		blocks = append(blocks, list...)
		delete(a.free, size)
	}
	a.mu.Unlock()
	if len(blocks) == 0 {
		return nil
	}
	// Kernels of the blocks' previous owners may still be queued.
	if err := a.b.drv.syncStream(a.b.stream); err != nil {
		return a.b.errf("empty cache: cuStreamSynchronize: %w", err)
	}
	var errs []error
	for _, blk := range blocks {
		if err := a.b.drv.memFree(blk.ptr); err != nil {
			errs = append(errs, fmt.Errorf("cuMemFree: %w", err))
			continue
		}
		a.mu.Lock()
		a.stats.DeviceFrees++
		a.stats.Reserved -= blk.size
		a.mu.Unlock()
	}
	if err := errors.Join(errs...); err != nil {
		return a.b.errf("empty cache: %w", err)
	}
	return nil
}
