package cpu

import (
	"container/list"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nabla-go/nabla/device"
)

// The CPU backend's cache of large buffers. Go zeroes every allocation,
// and the memory of a large one comes from pages that the runtime may have
// returned to the OS since their last use, so a fresh 50 MB activation
// costs a page fault every 4 KiB and a pass of zeroing before a kernel
// writes it: in the training step of the course's CNN that was a sixth of
// the time. The Backend contract leaves new buffers' contents unspecified,
// so large buffers are recycled instead, as the CUDA backend recycles
// device memory: a buffer's memory goes back to the cache when the
// garbage collector finds the buffer unreachable (runtime.AddCleanup), and
// Alloc takes memory of the same size class from there.
//
// A Go slice behind a buffer can outlive the buffer only when someone took
// it through Data; such a buffer is marked escaped and its memory is
// left to the garbage collector. Buffers made by Wrap hold the
// caller's memory and are never recycled.

const (
	// hostCacheMin is the size in bytes from which buffers are recycled;
	// smaller ones are cheap to allocate and zero.
	hostCacheMin = 64 << 10
	// hostCacheLimit bounds the bytes of unused memory kept for reuse. When
	// a buffer comes back to a full cache, the memory released longest ago
	// makes room for it: a program that moves on to other shapes (a
	// training loop at a new batch size, evaluation after training) would
	// otherwise find the cache full of the old shapes and allocate afresh.
	hostCacheLimit = 1 << 30
	// hostCacheIdle is how long unused memory stays in the cache before it
	// is left to the garbage collector, which returns it to the OS.
	hostCacheIdle = 10 * time.Second
	// hostGCBytes is how many bytes of large buffers must have been handed
	// out since the last garbage collection that the cache started before
	// a miss starts another. Memory taken from the cache does not grow the
	// Go heap, so a training loop that allocates recycled buffers would
	// rarely trigger a collection by itself, and the buffers of dead
	// tensors would not come back.
	hostGCBytes = 64 << 20
)

// hostClass is a size class: a dtype and a number of elements.
type hostClass struct {
	dt device.DType
	n  int
}

func (c hostClass) bytes() int64 { return int64(c.n * c.dt.Size()) }

// hostLease is the part of a recycled buffer that its cleanup sees: the
// full-capacity slice, and whether the slice has escaped through Data.
type hostLease struct {
	class   hostClass
	data    any
	escaped atomic.Bool
}

// hostEntry is a slice waiting in the cache.
type hostEntry struct {
	class    hostClass
	data     any
	released time.Time // when it came back
	elem     *list.Element
}

type hostCache struct {
	hits, misses, released, dropped, evicted atomic.Int64
	sinceGC                                  atomic.Int64

	limit int64         // see hostCacheLimit
	idle  time.Duration // see hostCacheIdle

	mu     sync.Mutex
	free   map[hostClass][]*hostEntry // per class, oldest first
	lru    list.List                  // every entry, oldest first
	cached int64                      // bytes in free
	timer  *time.Timer                // expires idle entries; nil when none is set
}

func newHostCache(limit int64, idle time.Duration) *hostCache {
	return &hostCache{limit: limit, idle: idle, free: map[hostClass][]*hostEntry{}}
}

var cpuCache = newHostCache(hostCacheLimit, hostCacheIdle)

// hostClassSize rounds n up to its size class: eight classes per power of
// two, so that at most an eighth of a buffer is unused.
func hostClassSize(n int) int {
	if n <= 16 {
		return n
	}
	step := 1 << (bits.Len(uint(n-1)) - 4)
	return (n + step - 1) / step * step
}

// alloc returns a buffer of n elements of dt whose memory may come
// from the cache, or nil when the buffer is too small to be worth it.
func (h *hostCache) alloc(dt device.DType, n int) *cpuBuffer {
	size := dt.Size()
	if size == 0 || n*size < hostCacheMin {
		return nil
	}
	class := hostClass{dt, hostClassSize(n)}
	lease := &hostLease{class: class, data: h.get(class)}
	miss := lease.data == nil
	if miss {
		h.misses.Add(1)
		lease.data = makeHost(dt, class.n)
	} else {
		h.hits.Add(1)
	}
	cb := &cpuBuffer{dt: dt, data: sliceHost(lease.data, n), lease: lease}
	runtime.AddCleanup(cb, h.release, lease)
	if h.sinceGC.Add(class.bytes()) > hostGCBytes {
		h.sinceGC.Store(0)
		go runtime.GC()
	}
	return cb
}

// get takes the most recently released slice of class c, or returns nil.
func (h *hostCache) get(c hostClass) any {
	h.mu.Lock()
	defer h.mu.Unlock()
	stack := h.free[c]
	if len(stack) == 0 {
		return nil
	}
	e := stack[len(stack)-1]
	stack[len(stack)-1] = nil
	h.free[c] = stack[:len(stack)-1]
	h.lru.Remove(e.elem)
	h.cached -= c.bytes()
	return e.data
}

// release is the cleanup of a recycled buffer: its memory goes back to the
// cache unless the slice escaped or is larger than the whole cache.
func (h *hostCache) release(l *hostLease) {
	if l.escaped.Load() {
		return
	}
	bytes := l.class.bytes()
	h.mu.Lock()
	defer h.mu.Unlock()
	if bytes > h.limit {
		h.dropped.Add(1)
		return
	}
	for h.cached+bytes > h.limit {
		h.evictOldest()
	}
	e := &hostEntry{class: l.class, data: l.data, released: time.Now()}
	e.elem = h.lru.PushBack(e)
	h.free[l.class] = append(h.free[l.class], e)
	h.cached += bytes
	h.released.Add(1)
	if h.timer == nil {
		h.timer = time.AfterFunc(h.idle, h.expire)
	}
}

// expire drops the entries that have waited longer than h.idle and sets
// the timer again for the oldest of the others.
func (h *hostCache) expire() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.timer = nil
	now := time.Now()
	for h.lru.Len() > 0 {
		wait := h.idle - now.Sub(h.lru.Front().Value.(*hostEntry).released)
		if wait > 0 {
			h.timer = time.AfterFunc(wait, h.expire)
			return
		}
		h.evictOldest()
	}
}

// evictOldest leaves the entry released longest ago to the garbage
// collector.
func (h *hostCache) evictOldest() {
	e := h.lru.Remove(h.lru.Front()).(*hostEntry)
	// It is also the oldest of its class.
	stack := h.free[e.class]
	copy(stack, stack[1:])
	stack[len(stack)-1] = nil
	if stack = stack[:len(stack)-1]; len(stack) == 0 {
		delete(h.free, e.class)
	} else {
		h.free[e.class] = stack
	}
	h.cached -= e.class.bytes()
	h.evicted.Add(1)
}

// makeHost returns a new slice of n elements of dt.
func makeHost(dt device.DType, n int) any {
	switch dt {
	case device.Float32:
		return make([]float32, n)
	case device.Float64:
		return make([]float64, n)
	case device.Int64:
		return make([]int64, n)
	case device.Bool:
		return make([]bool, n)
	case device.Uint8:
		return make([]uint8, n)
	}
	return nil
}

// sliceHost returns s[:n] for a slice of any of the host element types.
func sliceHost(s any, n int) any {
	switch v := s.(type) {
	case []float32:
		return v[:n:n]
	case []float64:
		return v[:n:n]
	case []int64:
		return v[:n:n]
	case []bool:
		return v[:n:n]
	case []uint8:
		return v[:n:n]
	}
	return nil
}
