package cpu

import (
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

func TestHostClassSize(t *testing.T) {
	prev := 0
	for n := 1; n < 1<<22; n += 1 + n/7 {
		c := hostClassSize(n)
		require.GreaterOrEqual(t, c, n)
		require.GreaterOrEqual(t, c, prev, "classes grow with n")
		if n > 16 {
			require.LessOrEqual(t, c, n+n/8+1, "at most an eighth unused (n=%d)", n)
		}
		prev = c
	}
	// Sizes within a class share it; the next size up starts another.
	require.Equal(t, hostClassSize(1<<20+1), hostClassSize(1<<20+1<<17))
	require.NotEqual(t, hostClassSize(1<<20), hostClassSize(1<<20+1))
}

// waitReleased collects garbage until the cache has taken back more than
// before buffers (cleanups run on their own goroutine after a collection).
func waitReleased(t *testing.T, before int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for cpuCache.released.Load() <= before {
		require.True(t, time.Now().Before(deadline), "no buffer came back to the cache")
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

func dataPtr(b device.Buffer) uintptr {
	return uintptr(unsafe.Pointer(unsafe.SliceData(b.(*cpuBuffer).data.([]float32))))
}

func TestHostCacheRecycles(t *testing.T) {
	be := newCPU()
	const n = 3<<16 + 5 // large enough for the cache, in a class of its own here
	b, err := be.Alloc(device.Float32, n)
	require.NoError(t, err)
	require.Equal(t, n, b.Len())
	require.NotNil(t, b.(*cpuBuffer).lease)
	p := dataPtr(b)
	before := cpuCache.released.Load()
	b = nil
	waitReleased(t, before)
	hits := cpuCache.hits.Load()
	b2, err := be.Alloc(device.Float32, n-3) // same class
	require.NoError(t, err)
	require.Equal(t, n-3, b2.Len())
	require.Equal(t, p, dataPtr(b2), "the memory of the dead buffer is reused")
	require.Equal(t, hits+1, cpuCache.hits.Load())
	runtime.KeepAlive(b2)
}

func TestHostCacheKeepsEscapedMemory(t *testing.T) {
	be := newCPU()
	const n = 5<<16 + 7
	b, err := be.Alloc(device.Float32, n)
	require.NoError(t, err)
	held := Data(b).([]float32) // the caller may keep this slice
	held[0] = 42
	// A second buffer of the class, not escaped, shows when cleanups ran.
	probe, err := be.Alloc(device.Float32, n)
	require.NoError(t, err)
	before := cpuCache.released.Load()
	b, probe = nil, nil
	waitReleased(t, before)
	// Only the probe came back: the cache must never hand out held.
	for range 3 {
		c, err := be.Alloc(device.Float32, n)
		require.NoError(t, err)
		require.NotEqual(t, uintptr(unsafe.Pointer(&held[0])), dataPtr(c))
		runtime.KeepAlive(c)
	}
	require.Equal(t, float32(42), held[0])
	_ = probe
}

func TestHostCacheLeavesSmallAndWrappedBuffers(t *testing.T) {
	be := newCPU()
	small, err := be.Alloc(device.Float64, 100)
	require.NoError(t, err)
	require.Nil(t, small.(*cpuBuffer).lease)
	w, err := Wrap(make([]float32, 1<<20))
	require.NoError(t, err)
	require.Nil(t, w.(*cpuBuffer).lease)
	for _, dt := range []device.DType{device.Float32, device.Float64, device.Int64, device.Bool, device.Uint8} {
		b, err := be.Alloc(dt, 1<<17)
		require.NoError(t, err)
		require.Equal(t, 1<<17, b.Len(), "%v", dt)
		require.Equal(t, dt, b.DType())
	}
}

// leaseOf returns a lease of class c, as alloc makes for a miss.
func leaseOf(c hostClass) *hostLease {
	return &hostLease{class: c, data: makeHost(c.dt, c.n)}
}

func TestHostCacheEvictsOldestForRoom(t *testing.T) {
	a := hostClass{device.Float32, 1 << 16} // 256 KiB
	b := hostClass{device.Float32, 1 << 17} // 512 KiB
	h := newHostCache(a.bytes()*3, time.Hour)
	old := leaseOf(a)
	h.release(old)
	h.release(leaseOf(a))
	h.release(leaseOf(a))
	require.Equal(t, 3*a.bytes(), h.cached)

	// A buffer of another class comes back to the full cache: the two
	// released longest ago make room.
	h.release(leaseOf(b))
	require.Equal(t, int64(2), h.evicted.Load())
	require.Equal(t, a.bytes()+b.bytes(), h.cached)
	require.NotNil(t, h.get(b))
	got := h.get(a)
	require.NotNil(t, got)
	require.NotSame(t, &old.data.([]float32)[0], &got.([]float32)[0], "the oldest went first")
	require.Nil(t, h.get(a))
	require.Zero(t, h.cached)
	require.Zero(t, h.lru.Len())

	// Larger than the whole cache: not kept, nothing evicted.
	h.release(leaseOf(a))
	h.release(leaseOf(hostClass{device.Float32, 1 << 20}))
	require.Equal(t, int64(1), h.dropped.Load())
	require.Equal(t, a.bytes(), h.cached)
}

func TestHostCacheExpiresIdleMemory(t *testing.T) {
	a := hostClass{device.Float64, 1 << 14}
	h := newHostCache(1<<30, 30*time.Millisecond)
	h.release(leaseOf(a))
	h.release(leaseOf(a))
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		cached, timer := h.cached, h.timer
		h.mu.Unlock()
		if cached == 0 {
			require.Nil(t, timer, "no timer left once the cache is empty")
			break
		}
		require.True(t, time.Now().Before(deadline), "idle memory was never dropped")
		time.Sleep(5 * time.Millisecond)
	}
	require.Equal(t, int64(2), h.evicted.Load())
	require.Nil(t, h.get(a))

	// Memory taken again in time is not dropped.
	h.release(leaseOf(a))
	require.NotNil(t, h.get(a))
	time.Sleep(60 * time.Millisecond)
	require.Equal(t, int64(2), h.evicted.Load())
}
