package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/ptxvm"
)

// TestGate: close waits for the calls inside, refuses new ones at once,
// and a call may enter again while inside.
func TestGate(t *testing.T) {
	var g gate
	require.True(t, g.enter())
	require.True(t, g.enter(), "a call inside a call")
	g.leave()
	closed := make(chan bool)
	go func() { closed <- g.close() }()
	require.Eventually(t, g.closed, time.Second, time.Millisecond)
	require.False(t, g.enter(), "no new call once close began")
	select {
	case <-closed:
		t.Fatal("close returned with a call inside")
	case <-time.After(20 * time.Millisecond):
	}
	g.leave()
	require.True(t, <-closed)
	require.False(t, g.close(), "closing twice")
	require.False(t, g.enter())
}

// slowDriver serves a virtual GPU whose calls that allocate or queue work
// first sleep for delay, inside the driver: calls are then in flight when
// Close runs, not only between a check and the driver.
type slowDriver struct {
	*vmDriver
	delay time.Duration
}

func (d slowDriver) open(index int) (gpuDriver, deviceProps, error) {
	g, p, err := d.vmDriver.open(index)
	return slowGPU{g, d.delay}, p, err
}

type slowGPU struct {
	gpuDriver
	delay time.Duration
}

func (g slowGPU) memAlloc(size int64) (devicePtr, error) {
	time.Sleep(g.delay)
	return g.gpuDriver.memAlloc(size)
}

func (g slowGPU) memcpyHtoD(dst devicePtr, src unsafe.Pointer, size int64, s stream) error {
	time.Sleep(g.delay)
	return g.gpuDriver.memcpyHtoD(dst, src, size, s)
}

func (g slowGPU) memcpyDtoH(dst unsafe.Pointer, src devicePtr, size int64, s stream) error {
	time.Sleep(g.delay)
	return g.gpuDriver.memcpyDtoH(dst, src, size, s)
}

func (g slowGPU) memcpyDtoD(dst, src devicePtr, size int64, s stream) error {
	time.Sleep(g.delay)
	return g.gpuDriver.memcpyDtoD(dst, src, size, s)
}

func (g slowGPU) launch(f function, grid [3]uint32, block, smem uint32, s stream, a *argBuf) error {
	time.Sleep(g.delay)
	return g.gpuDriver.launch(f, grid, block, smem, s, a)
}

func (g slowGPU) stageCopy(compute, copyStream stream, before, copied event, dst devicePtr, src unsafe.Pointer, size int64, first, last bool) error {
	time.Sleep(g.delay)
	return g.gpuDriver.stageCopy(compute, copyStream, before, copied, dst, src, size, first, last)
}

// TestCloseRacesCalls closes a backend while goroutines launch kernels,
// copy, allocate, free and synchronise on it: each call either succeeds
// or fails with errClosed, never with a driver error (the virtual machine
// refuses destroyed streams, unloaded modules and calls after the context
// is released; slowDriver keeps calls inside the driver when Close comes)
// or a memcheck fault; afterwards every call fails with
// errClosed and the cleanups of the buffers still alive are harmless. Run
// it with -race.
func TestCloseRacesCalls(t *testing.T) {
	const (
		workers = 6
		n       = 1 << 15 // 128 KiB of float32: uploads take the staging ring
	)
	host := make([]float32, n)
	for i := range host {
		host[i] = float32(i % 13)
	}
	for round := range 4 {
		vm := &vmDriver{dev: ptxvm.New(ptxvm.Config{TotalMem: 256 << 20, Workers: 2})}
		b, err := newBackend(slowDriver{vm, 200 * time.Microsecond}, 0)
		require.NoError(t, err)
		var calls, closedCalls atomic.Int64
		var wg sync.WaitGroup
		failures := make(chan error, workers)
		started := make(chan struct{}, workers)
		for w := range workers {
			wg.Go(func() {
				var live []device.Buffer // dropped at the end: cleanups after Close
				check := func(what string, err error) bool {
					calls.Add(1)
					if err == nil {
						return true
					}
					if !errors.Is(err, errClosed) {
						failures <- fmt.Errorf("round %d, worker %d, %s: %w", round, w, what, err)
						return false
					}
					closedCalls.Add(1)
					return false
				}
			loop:
				for it := 0; ; it++ {
					if it == 2 {
						started <- struct{}{}
					}
					x, err := b.Alloc(device.Float32, n)
					if !check("alloc", err) {
						break
					}
					live = append(live, x)
					secondHalf := device.View{Buf: x, Layout: device.Layout{Shape: []int{n / 2}, Strides: []int{1}, Offset: n / 2}}
					if !check("upload", b.Upload(x, host)) ||
						!check("unary", b.Unary(device.AddScalar, view(x, n), view(x, n), 1, 0)) ||
						!check("copy", b.Copy(view(x, n/2), secondHalf)) ||
						!check("upload again", b.Upload(x, host)) {
						break
					}
					switch it % 3 {
					case 0:
						out := make([]float32, n)
						if !check("download", b.Download(out, x)) {
							break loop
						}
						if out[n-1] != host[n-1] {
							failures <- fmt.Errorf("round %d, worker %d: downloaded %v, want %v", round, w, out[n-1], host[n-1])
						}
					case 1:
						if !check("synchronize", b.Synchronize()) {
							break loop
						}
					case 2:
						if !check("free", b.Free(x)) {
							break loop
						}
					}
				}
				// Once closed, closed for good.
				_, err := b.Alloc(device.Float32, 1)
				check("alloc after close", err)
				check("synchronize after close", b.Synchronize())
				runtime.KeepAlive(live)
			})
		}
		for range workers {
			<-started
		}
		require.NoError(t, b.Close())
		wg.Wait()
		close(failures)
		for err := range failures {
			require.NoError(t, err)
		}
		require.GreaterOrEqual(t, closedCalls.Load(), int64(2*workers), "round %d: every worker met the closed backend", round)
		t.Logf("round %d: %d calls, %d refused after Close", round, calls.Load(), closedCalls.Load())

		// The buffers of the workers are garbage now: their cleanups
		// after Close only count them out.
		collect(time.Now().Add(5 * time.Second))
		st := b.MemoryStats()
		require.Equal(t, st.Allocated, st.Reserved, "nothing cached after Close: %v", st)
		require.NoError(t, b.Close(), "closing twice")
	}
}

// TestClosedBackendRefusesCalls: after Close every call fails with an
// error that wraps errClosed and names the call.
func TestClosedBackendRefusesCalls(t *testing.T) {
	b, err := newBackend(&vmDriver{dev: ptxvm.New(ptxvm.Config{TotalMem: 64 << 20})}, 0)
	require.NoError(t, err)
	x := upload(t, b, []float32{1, 2, 3, 4})
	y := upload(t, b, []float32{1, 2, 3, 4})
	require.NoError(t, b.Close())
	cases := []struct {
		name, op string
		call     func() error
	}{
		{"Alloc", "alloc", func() error { _, err := b.Alloc(device.Float32, 4); return err }},
		{"Alloc of nothing", "alloc", func() error { _, err := b.Alloc(device.Float32, 0); return err }},
		{"Upload", "upload", func() error { return b.Upload(x, []float32{5, 6, 7, 8}) }},
		{"Download", "download", func() error { return b.Download(make([]float32, 4), x) }},
		{"Synchronize", "synchronize", b.Synchronize},
		{"EmptyCache", "empty cache", b.EmptyCache},
		{"a launch", "neg_f32", func() error { return b.Unary(device.Neg, view(y, 4), view(x, 4), 0, 0) }},
		{"Copy", "copy", func() error { return b.Copy(view(y, 4), view(x, 4)) }},
		{"Free", "free", func() error { return b.Free(x) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			require.ErrorIs(t, err, errClosed)
			require.ErrorContains(t, err, c.op+": the backend is closed")
		})
	}
}

// BenchmarkGate: the cost the gate adds to every launch and copy, beside
// the atomic load of the closed flag it replaced, on one goroutine and on
// all at once (one shared word).
func BenchmarkGate(b *testing.B) {
	b.Run("closed-flag-load", func(b *testing.B) {
		var closed atomic.Bool
		for b.Loop() {
			if closed.Load() {
				b.Fatal("closed")
			}
		}
	})
	b.Run("enter-leave", func(b *testing.B) {
		var g gate
		for b.Loop() {
			if !g.enter() {
				b.Fatal("closed")
			}
			g.leave()
		}
	})
	b.Run("enter-leave-parallel", func(b *testing.B) {
		var g gate
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !g.enter() {
					b.Error("closed")
					return
				}
				g.leave()
			}
		})
	})
}
