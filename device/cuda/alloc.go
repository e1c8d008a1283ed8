package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

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
	OOMRetries    int64 // allocations that needed the cache flushed
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

	// sinceGC counts the bytes handed out since the allocator last asked
	// for a garbage collection (see noteAlloc).
	sinceGC atomic.Int64
}

func newAllocator(b *Backend) *allocator {
	return &allocator{b: b, free: map[int64][]*block{}}
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
	if err := b.checkOpen("alloc"); err != nil {
		return nil, err
	}
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

// noteAlloc starts a background garbage collection after every eighth of
// the device's memory (or of the memory limit) handed out. The Go
// collector does not see GPU memory: without this, the memory of
// unreachable tensors would come back only when the Go heap grows enough
// to trigger a collection, or at the out-of-memory retry.
func (a *allocator) noteAlloc(size int64) {
	budget := a.b.totalMem / 8
	if l := a.limitBytes(); l > 0 {
		budget = l / 8
	}
	if a.sinceGC.Add(size) > max(budget, 64<<20) {
		a.sinceGC.Store(0)
		go runtime.GC()
	}
}

func (a *allocator) limitBytes() int64 { return a.limit.Load() }

// Free returns buf's memory to the cache at once instead of when the
// garbage collector finds it unreachable. buf, and every tensor using it,
// must not be used afterwards. Work already queued on it completes first
// (the stream orders it before any later use of the memory).
func (b *Backend) Free(buf device.Buffer) error {
	x, ok := buf.(*buffer)
	if !ok || x.be != b {
		return b.errf("free: buffer %T does not belong to this device", buf)
	}
	if x.blk == nil || !x.freed.CompareAndSwap(false, true) {
		return nil
	}
	x.cleanup.Stop()
	b.alloc.put(x.blk)
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
	if err := b.checkOpen("empty cache"); err != nil {
		return err
	}
	return b.alloc.emptyCache()
}

// SetMemoryLimit caps the bytes the allocator reserves from the driver
// (0: no cap); beyond it allocations take the out-of-memory path. Useful to
// share a GPU, and to test.
func (b *Backend) SetMemoryLimit(bytes int64) {
	b.alloc.limit.Store(max(bytes, 0))
}

func (a *allocator) get(bytes int64) (*block, error) {
	size := classSize(bytes)
	if blk := a.fromCache(size); blk != nil {
		return blk, nil
	}
	blk, err := a.fromDriver(size)
	if errors.Is(err, errOOM) {
		// Out of memory: let the garbage collector return buffers of
		// unreachable tensors, release the whole cache, and try once more.
		a.mu.Lock()
		a.stats.OOMRetries++
		a.mu.Unlock()
		a.collect()
		if blk = a.fromCache(size); blk != nil {
			return blk, nil
		}
		if e := a.emptyCache(); e != nil {
			return nil, e
		}
		blk, err = a.fromDriver(size)
	}
	if err != nil {
		if errors.Is(err, errOOM) {
			st := a.b.MemoryStats()
			return nil, a.b.errf("out of memory: cannot allocate %s (%d bytes requested, a %s block); %s allocated by live tensors, %s reserved by nabla, device total %s%s; free tensors that are no longer needed (Backend.Free), reduce the batch size, or call EmptyCache: %w",
				fmtBytes(bytes), bytes, fmtBytes(size), fmtBytes(st.Allocated), fmtBytes(st.Reserved), fmtBytes(a.b.totalMem), a.limitNote(), err)
		}
		return nil, err
	}
	return blk, nil
}

func (a *allocator) limitNote() string {
	if l := a.limit.Load(); l > 0 {
		return ", limit " + fmtBytes(l)
	}
	return ""
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

// put returns a block to the cache.
func (a *allocator) put(blk *block) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.free[blk.size] = append(a.free[blk.size], blk)
	a.stats.Frees++
	a.stats.Allocated -= blk.size
}

// collect runs the garbage collector and gives the cleanups of the
// buffers it finds unreachable a moment to return their blocks.
func (a *allocator) collect() {
	a.sinceGC.Store(0)
	before := a.b.MemoryStats().Frees
	runtime.GC()
	for i := 0; i < 20; i++ {
		time.Sleep(time.Millisecond)
		if now := a.b.MemoryStats().Frees; now > before {
			// Cleanups are running; give the rest of them a little longer.
			time.Sleep(2 * time.Millisecond)
			return
		}
	}
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
