package cpu

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

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
	// hostCacheLimit bounds the bytes of unused memory kept for reuse.
	hostCacheLimit = 1 << 30
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

// hostLease is the part of a recycled buffer that its cleanup sees: the
// full-capacity slice, and whether the slice has escaped through Data.
type hostLease struct {
	class   hostClass
	data    any
	escaped atomic.Bool
}

type hostCache struct {
	hits, misses, released, dropped atomic.Int64
	mu                              sync.Mutex
	free                            map[hostClass][]any
	cached                          int64 // bytes in free
	sinceGC                         atomic.Int64
}

var cpuCache = &hostCache{free: map[hostClass][]any{}}

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
	if h.sinceGC.Add(int64(class.n*size)) > hostGCBytes {
		h.sinceGC.Store(0)
		go runtime.GC()
	}
	return cb
}

func (h *hostCache) get(c hostClass) any {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := h.free[c]
	if len(list) == 0 {
		return nil
	}
	s := list[len(list)-1]
	list[len(list)-1] = nil
	h.free[c] = list[:len(list)-1]
	h.cached -= int64(c.n * c.dt.Size())
	return s
}

// release is the cleanup of a recycled buffer: its memory goes back to the
// cache unless the slice escaped or the cache is full.
func (h *hostCache) release(l *hostLease) {
	if l.escaped.Load() {
		return
	}
	bytes := int64(l.class.n * l.class.dt.Size())
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cached+bytes > hostCacheLimit {
		h.dropped.Add(1)
		return
	}
	h.released.Add(1)
	h.free[l.class] = append(h.free[l.class], l.data)
	h.cached += bytes
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
