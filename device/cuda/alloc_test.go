package cuda

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/ptxvm"
)

// vmBackend opens a backend on a virtual GPU of its own, closed when the
// test ends.
func vmBackend(t *testing.T, cfg ptxvm.Config) (*Backend, *ptxvm.Device) {
	t.Helper()
	vm := ptxvm.New(cfg)
	b, err := newBackend(&vmDriver{dev: vm}, 0)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	return b, vm
}

// smallVM is vmBackend on a virtual GPU with mem bytes of device memory.
func smallVM(t *testing.T, mem int64) *Backend {
	t.Helper()
	b, _ := vmBackend(t, ptxvm.Config{TotalMem: mem})
	return b
}

// quiesce waits for the allocator's background collection, if one runs,
// so that the out-of-memory path is what the test sees.
func quiesce(b *Backend) {
	for b.alloc.gcRunning.Load() {
		time.Sleep(time.Millisecond)
	}
}

// TestOutOfMemoryReclaimsGarbage fills a small virtual GPU with buffers
// that only the garbage collector can return, then asks for more: the
// out-of-memory path must find them however their cleanups are delayed.
// The former path (one collection and a wait of about 22 ms for the first
// cleanups) failed the cases behind slow cleanups and finalizers: their
// buffers become unreachable only once the delaying cleanups have run,
// so a second collection is needed.
func TestOutOfMemoryReclaimsGarbage(t *testing.T) {
	const (
		mem   = 8 << 20
		chunk = 512 << 10 // bytes per garbage buffer
	)
	type holder struct{ buf device.Buffer }
	cases := []struct {
		name string
		// hold returns what holds buf; buf becomes garbage when that is
		// dropped.
		hold func(buf device.Buffer) any
	}{
		{"plain garbage", func(buf device.Buffer) any { return buf }},
		{"behind slow cleanups", func(buf device.Buffer) any {
			// buf is the argument of a 2 ms cleanup: alive until it ran.
			h := new(holder)
			runtime.AddCleanup(h, func(b device.Buffer) {
				time.Sleep(2 * time.Millisecond)
				runtime.KeepAlive(b)
			}, buf)
			return h
		}},
		{"behind finalizers", func(buf device.Buffer) any {
			// The finalizer resurrects h, and buf with it, until it ran.
			h := &holder{buf}
			runtime.SetFinalizer(h, func(*holder) { time.Sleep(time.Millisecond) })
			return h
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := smallVM(t, mem)
			n := mem/chunk - 1 // the error word and the rounding leave room for no more
			// Held until all are allocated, so that no collection started
			// meanwhile returns any.
			held := make([]any, n)
			for i := range held {
				buf, err := b.Alloc(device.Uint8, chunk)
				require.NoError(t, err)
				held[i] = c.hold(buf)
			}
			quiesce(b)
			before := b.MemoryStats()
			require.Equal(t, int64(n*chunk), before.Allocated, "the garbage still holds the memory")
			runtime.KeepAlive(held) // and no longer

			x, err := b.Alloc(device.Uint8, 2*chunk)
			require.NoError(t, err)
			st := b.MemoryStats()
			t.Logf("%v", st)
			require.Equal(t, before.OOMRetries+1, st.OOMRetries, "the out-of-memory path reclaimed the garbage")
			require.GreaterOrEqual(t, st.Frees, before.Frees+int64(n)-1)
			require.NoError(t, b.Free(x))
		})
	}
}

// TestOutOfMemoryMessage: a genuine out-of-memory error, once nothing is
// left to reclaim, says what was asked and what the allocator holds (as
// PyTorch's message does), after emptying the cache, and matches errOOM.
func TestOutOfMemoryMessage(t *testing.T) {
	const mem = 8 << 20
	cases := []struct {
		name  string
		limit int64
		want  []string
	}{
		{"device memory", 0, []string{"tried to allocate 4.00 MiB", "8.00 MiB total", "5.00 MiB allocated by tensors", "0 B reserved in cache", "cuMemAlloc"}},
		{"memory limit", 6 << 20, []string{"tried to allocate 4.00 MiB", "8.00 MiB total", "5.00 MiB allocated by tensors", "0 B reserved in cache", "limit 6.00 MiB"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := smallVM(t, mem)
			b.SetMemoryLimit(c.limit)
			live, err := b.Alloc(device.Uint8, 5<<20)
			require.NoError(t, err)
			cached, err := b.Alloc(device.Uint8, 1<<20)
			require.NoError(t, err)
			require.NoError(t, b.Free(cached))
			require.Equal(t, int64(1<<20), b.MemoryStats().Reserved-b.MemoryStats().Allocated)

			_, err = b.Alloc(device.Uint8, 4<<20)
			require.Error(t, err)
			t.Log(err)
			require.True(t, errors.Is(err, errOOM), "errors.Is(err, errOOM): %v", err)
			for _, w := range c.want {
				require.ErrorContains(t, err, w)
			}
			st := b.MemoryStats()
			require.Equal(t, st.Allocated, st.Reserved, "the cache was emptied before giving up")
			runtime.KeepAlive(live)
		})
	}
}

// TestGCBudget: the bytes handed out between the allocator's own
// collections follow the live set (GOGC=100), with a floor for small
// live sets and at most half the headroom for large ones.
func TestGCBudget(t *testing.T) {
	const h200 = 141 << 30
	cases := []struct {
		name               string
		total, limit, live int64
		want               int64
	}{
		{"nothing live", h200, 0, 0, 64 << 20},
		{"small live set", h200, 0, 10 << 20, 64 << 20},
		{"live set", h200, 0, 10 << 30, 10 << 30},
		{"large live set", h200, 0, 101 << 30, 20 << 30},
		{"device full", h200, 0, h200, 64 << 20},
		{"small device", 8 << 20, 0, 0, 1 << 20},
		{"memory limit", h200, 40 << 30, 20 << 30, 10 << 30},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAllocator(&Backend{totalMem: c.total})
			a.limit.Store(c.limit)
			require.Equal(t, c.want, a.gcBudget(c.live))
		})
	}
}

// TestBackgroundCollection: garbage beyond the budget starts a
// collection, without any out-of-memory, and its buffers come back.
func TestBackgroundCollection(t *testing.T) {
	b := smallVM(t, 64<<20) // a budget of 8 MiB
	start := b.alloc.collections.Load()
	// The Go pacer's collections restart the budget: allocate until the
	// allocator's own has run.
	for i := 0; i < 1000 && b.alloc.collections.Load() == start; i++ {
		_, err := b.Alloc(device.Uint8, 1<<20)
		require.NoError(t, err)
		quiesce(b)
	}
	require.Greater(t, b.alloc.collections.Load(), start)
	deadline := time.Now().Add(10 * time.Second)
	for b.MemoryStats().Frees == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := b.MemoryStats()
	t.Logf("%v", st)
	require.Zero(t, st.OOMRetries)
	require.NotZero(t, st.Frees, "the collection returned garbage to the cache")
}

// TestPacingSeesEveryCollection: a collection the allocator did not start
// (the Go pacer's, here runtime.GC) restarts its budget and measures the
// live set.
func TestPacingSeesEveryCollection(t *testing.T) {
	b := smallVM(t, 64<<20)
	live, err := b.Alloc(device.Uint8, 3<<20)
	require.NoError(t, err)
	b.alloc.sinceGC.Store(5 << 20)
	b.alloc.liveAfterGC.Store(0)
	runtime.GC()
	deadline := time.Now().Add(10 * time.Second)
	for b.alloc.sinceGC.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	require.Zero(t, b.alloc.sinceGC.Load())
	require.Equal(t, int64(3<<20), b.alloc.liveAfterGC.Load())
	runtime.KeepAlive(live)
}
