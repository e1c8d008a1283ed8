package cuda

// Tests of the backend itself (allocator, contexts, asynchronous errors)
// and the benchmarks of the GPU table. They run on the backend
// testBackend gives: built with -tags cuda the GPU (build them with
// build/gpu-binaries.sh and run build/gpu/run.sh on the GPU host; they
// skip without a GPU), otherwise the PTX virtual machine. The numerical
// comparison of every op with the CPU backend is
// tensor/conformance_test.go.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// testBackend returns cuda:0: with the cuda tag the GPU (skipping when
// there is none), without it the PTX virtual machine (UseEmulator).
func testBackend(tb testing.TB) *Backend {
	tb.Helper()
	if hardware != nil {
		if (provider{hardware}).Count() == 0 {
			tb.Skip("no CUDA device")
		}
	} else if err := UseEmulator(); err != nil {
		tb.Skipf("built without the cuda tag and the PTX virtual machine is not available: %v", err)
	}
	b, err := Get(0)
	require.NoError(tb, err)
	return b
}

// benchBackend is testBackend for the GPU benchmarks, which measure the
// hardware: they skip on the PTX virtual machine.
func benchBackend(b *testing.B) *Backend {
	b.Helper()
	be := testBackend(b)
	if be.Emulated() {
		b.Skip("a GPU benchmark: meaningless on the PTX virtual machine (build with -tags cuda on a GPU host)")
	}
	return be
}

func view(buf device.Buffer, shape ...int) device.View {
	return device.View{Buf: buf, Layout: device.Contiguous(shape...)}
}

func upload(tb testing.TB, b *Backend, host []float32) device.Buffer {
	tb.Helper()
	buf, err := b.Alloc(device.Float32, len(host))
	require.NoError(tb, err)
	require.NoError(tb, b.Upload(buf, host))
	return buf
}

func download(tb testing.TB, b *Backend, buf device.Buffer) []float32 {
	tb.Helper()
	out := make([]float32, buf.Len())
	require.NoError(tb, b.Download(out, buf))
	return out
}

func TestDeviceInfo(t *testing.T) {
	b := testBackend(t)
	major, minor := b.ComputeCapability()
	t.Logf("%v: %d SMs, %s, compute capability %d.%d, kernels: %s, TF32 %v",
		b, b.Multiprocessors(), fmtBytes(b.TotalMemory()), major, minor, b.KernelCode(), AllowTF32())
	require.Equal(t, device.CUDA(0), b.Device())
	require.Contains(t, device.List(), device.CUDA(0))
	require.Equal(t, device.CUDA(0), device.Best())
	require.NotEmpty(t, b.KernelCode())
	if !b.Emulated() && major == 9 && minor == 0 && os.Getenv("NABLA_CUDA_PTX") != "1" {
		require.Equal(t, "sm_90 machine code", b.KernelCode(), "an sm_90 GPU loads no PTX")
	}
}

func TestUploadDownloadAllDTypes(t *testing.T) {
	b := testBackend(t)
	n := 1001
	hosts := []any{make([]float32, n), make([]float64, n), make([]int64, n), make([]bool, n), make([]uint8, n)}
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < n; i++ {
		hosts[0].([]float32)[i] = r.Float32()
		hosts[1].([]float64)[i] = r.Float64()
		hosts[2].([]int64)[i] = r.Int64()
		hosts[3].([]bool)[i] = r.IntN(2) == 0
		hosts[4].([]uint8)[i] = uint8(r.IntN(256))
	}
	for k, dt := range dtypes {
		buf, err := b.Alloc(dt, n)
		require.NoError(t, err)
		require.NoError(t, b.Upload(buf, hosts[k]))
		back := map[device.DType]any{device.Float32: make([]float32, n), device.Float64: make([]float64, n),
			device.Int64: make([]int64, n), device.Bool: make([]bool, n), device.Uint8: make([]uint8, n)}[dt]
		require.NoError(t, b.Download(back, buf))
		require.Equal(t, hosts[k], back, "%v", dt)
		require.ErrorContains(t, b.Upload(buf, make([]float32, n+1)), "does not match")
	}
}

// settle lets the cleanups of buffers dropped by earlier tests run, so
// that the allocator's counters move only with the test's own calls.
func settle() {
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
}

func TestAllocatorReuse(t *testing.T) {
	b := testBackend(t)
	require.NoError(t, b.Synchronize())
	settle()
	x, err := b.Alloc(device.Float32, 1000)
	require.NoError(t, err)
	p := x.(*buffer).ptr()
	require.NoError(t, b.Free(x))
	require.NoError(t, b.Free(x), "a second Free is harmless")
	before := b.MemoryStats()
	// The same size class comes back from the cache: same block, no driver call.
	y, err := b.Alloc(device.Float32, 999)
	require.NoError(t, err)
	require.Equal(t, p, y.(*buffer).ptr())
	after := b.MemoryStats()
	require.Equal(t, before.DeviceAllocs, after.DeviceAllocs)
	require.Equal(t, before.CacheHits+1, after.CacheHits)
	require.Equal(t, before.Allocated+classSize(4000), after.Allocated)
	// Empty buffers need no memory.
	z, err := b.Alloc(device.Float64, 0)
	require.NoError(t, err)
	require.Zero(t, z.Len())
	require.NoError(t, b.Free(y))
	// EmptyCache returns cached blocks to the driver.
	require.NoError(t, b.EmptyCache())
	st := b.MemoryStats()
	require.Equal(t, st.Allocated, st.Reserved, "nothing cached after EmptyCache: %v", st)
}

// TestAllocatorSteadyState runs a training-loop-like sequence many times:
// after the first round no cuMemAlloc/cuMemFree happens and the reserved
// bytes stay flat.
func TestAllocatorSteadyState(t *testing.T) {
	b := testBackend(t)
	n, rounds := 1<<20, 200
	if b.Emulated() {
		n, rounds = 1<<14, 20 // the same allocations, at the virtual machine's speed
	}
	host := make([]float32, n)
	for i := range host {
		host[i] = float32(i%97) * 0.01
	}
	round := func() {
		x := upload(t, b, host)
		y, err := b.Alloc(device.Float32, n)
		require.NoError(t, err)
		require.NoError(t, b.Unary(device.Exp, view(y, n), view(x, n), 0, 0))
		z, err := b.Alloc(device.Float32, 1)
		require.NoError(t, err)
		require.NoError(t, b.Reduce(device.Sum, view(z), view(y, n), 1))
		require.NoError(t, b.Free(x))
		require.NoError(t, b.Free(y))
		require.NoError(t, b.Free(z))
	}
	round()
	require.NoError(t, b.Synchronize())
	settle()
	base := b.MemoryStats()
	for i := 0; i < rounds; i++ {
		round()
	}
	require.NoError(t, b.Synchronize())
	st := b.MemoryStats()
	require.Equal(t, base.DeviceAllocs, st.DeviceAllocs, "no cuMemAlloc in steady state: %v", st)
	require.Equal(t, base.DeviceFrees, st.DeviceFrees)
	require.Equal(t, base.Reserved, st.Reserved)
	require.LessOrEqual(t, st.Allocated, base.Allocated)
	t.Logf("steady state: %v", st)
}

// TestBuffersReturnOnGC drops buffers without freeing them: the garbage
// collector's cleanups return them to the cache.
func TestBuffersReturnOnGC(t *testing.T) {
	b := testBackend(t)
	settle()
	before := b.MemoryStats()
	for i := 0; i < 100; i++ {
		_, err := b.Alloc(device.Float32, 4096)
		require.NoError(t, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.MemoryStats().Frees < before.Frees+100 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	st := b.MemoryStats()
	require.GreaterOrEqual(t, st.Frees, before.Frees+100, "%v", st)
	require.LessOrEqual(t, st.Allocated, before.Allocated)
}

func TestOutOfMemory(t *testing.T) {
	b := testBackend(t)
	// The driver's answer: far more than any GPU has.
	_, err := b.Alloc(device.Float32, 1<<38)
	require.Error(t, err)
	for _, frag := range []string{"out of memory", "tried to allocate", "allocated by tensors", "reserved in cache", "total"} {
		require.ErrorContains(t, err, frag)
	}
	t.Logf("driver OOM: %v", err)
	// A memory limit takes the same path, after flushing the cache.
	require.NoError(t, b.EmptyCache())
	st := b.MemoryStats()
	b.SetMemoryLimit(st.Reserved + 1<<20)
	defer b.SetMemoryLimit(0)
	_, err = b.Alloc(device.Float32, 16<<20)
	require.ErrorContains(t, err, "out of memory")
	require.ErrorContains(t, err, "limit")
	require.Greater(t, b.MemoryStats().OOMRetries, st.OOMRetries)
	// Small allocations still work.
	x, err := b.Alloc(device.Float32, 16)
	require.NoError(t, err)
	require.NoError(t, b.Free(x))
}

// TestManyGoroutines uses one device from many goroutines at once (each
// Go call may run on any OS thread): results must be right and no call
// may fail for want of a current context.
func TestManyGoroutines(t *testing.T) {
	b := testBackend(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			if g%4 == 0 {
				// Some goroutines pin their thread, as cgo users do.
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			n := 1 + g*37
			host := make([]float32, n)
			for i := range host {
				host[i] = float32(g) + float32(i)*0.5
			}
			for it := 0; it < 30; it++ {
				x, err := b.Alloc(device.Float32, n)
				if err == nil {
					err = b.Upload(x, host)
				}
				var y device.Buffer
				if err == nil {
					y, err = b.Alloc(device.Float32, n)
				}
				if err == nil {
					err = b.Binary(device.Add, view(y, n), view(x, n), view(x, n))
				}
				if err == nil {
					err = b.Unary(device.AddScalar, view(y, n), view(y, n), 1, 0)
				}
				out := make([]float32, n)
				if err == nil {
					err = b.Download(out, y)
				}
				if err != nil {
					errs <- err
					return
				}
				for i := range out {
					if out[i] != 2*host[i]+1 {
						errs <- fmt.Errorf("goroutine %d: element %d: got %v, want %v", g, i, out[i], 2*host[i]+1)
						return
					}
				}
				runtime.Gosched()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestKernelErrorsAreReported(t *testing.T) {
	b := testBackend(t)
	x, _ := b.Alloc(device.Int64, 4)
	y, _ := b.Alloc(device.Int64, 4)
	require.NoError(t, b.Upload(x, []int64{1, 2, 3, 4}))
	require.NoError(t, b.Upload(y, []int64{1, 0, 2, 2}))
	require.NoError(t, b.Binary(device.Div, view(x, 4), view(x, 4), view(y, 4)), "the launch itself succeeds")
	err := b.Synchronize()
	require.ErrorContains(t, err, "integer division by zero")
	require.NoError(t, b.Synchronize(), "the report is cleared")
	out := make([]int64, 4)
	require.NoError(t, b.Download(out, x))
	require.Equal(t, []int64{1, 0, 1, 2}, out)

	// Mismatched operands fail before launching.
	f, _ := b.Alloc(device.Float32, 4)
	require.ErrorContains(t, b.Binary(device.Add, view(f, 4), view(f, 4), view(f, 5)), "overruns")
	require.ErrorContains(t, b.Unary(device.Exp, view(x, 4), view(x, 4), 0, 0), "not implemented for int64")
}

// TestUncompiledKernelsAreRefused checks that the ops whose kernels are
// left out of the PTX (nothing in package tensor asks for them) fail with
// a clear error instead of a missing-function error from the driver.
func TestUncompiledKernelsAreRefused(t *testing.T) {
	b := testBackend(t)
	i, _ := b.Alloc(device.Int64, 4)
	u, _ := b.Alloc(device.Uint8, 4)
	f, _ := b.Alloc(device.Float32, 1)
	for _, c := range []struct {
		name string
		call func() error
		want string
	}{
		{"add_scalar u8", func() error { return b.Unary(device.AddScalar, view(u, 4), view(u, 4), 1, 0) }, "unary add_scalar is not implemented for uint8"},
		{"mul_scalar u8", func() error { return b.Unary(device.MulScalar, view(u, 4), view(u, 4), 2, 0) }, "not implemented for uint8"},
		{"rsub_scalar u8", func() error { return b.Unary(device.RSubScalar, view(u, 4), view(u, 4), 2, 0) }, "not implemented for uint8"},
		{"mean i64", func() error { return b.Reduce(device.Mean, view(f), view(i, 4), 1) }, "reduce mean is not implemented for int64"},
		{"var u8", func() error { return b.Reduce(device.Var, view(f), view(u, 4), 1) }, "not implemented for uint8"},
		{"logsumexp i64", func() error { return b.Reduce(device.LogSumExp, view(f), view(i, 4), 1) }, "not implemented for int64"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.ErrorContains(t, c.call(), c.want)
		})
	}
	require.NoError(t, b.Unary(device.Affine, view(u, 4), view(u, 4), 2, 1), "affine_u8 is still compiled")
	require.NoError(t, b.Synchronize())
}

func TestRandomMatchesCPU(t *testing.T) {
	b := testBackend(t)
	ref, _ := device.Get(device.CPU())
	n := 10007
	for _, dist := range []device.Distribution{device.Uniform, device.Normal, device.Bernoulli} {
		g, _ := b.Alloc(device.Float32, n)
		require.NoError(t, b.Random(view(g, n), dist, 1234, 99, 0, 1))
		c, _ := ref.Alloc(device.Float32, n)
		require.NoError(t, ref.Random(view(c, n), dist, 1234, 99, 0, 1))
		want := make([]float32, n)
		require.NoError(t, ref.Download(want, c))
		got := download(t, b, g)
		for i := range want {
			require.InDelta(t, want[i], got[i], 1e-6*math.Max(1, math.Abs(float64(want[i]))), "dist %d element %d", dist, i)
		}
	}
}

// ---------------------------------------------------------------- benchmarks
//
// The GPU table. Each reports its own unit; build/gpu/run.sh sets
// them beside PyTorch's numbers for the same workloads
// (build/torch_bench.py).

func benchBuffers(b *testing.B, be *Backend, dt device.DType, n, count int) []device.Buffer {
	b.Helper()
	bufs := make([]device.Buffer, count)
	for i := range bufs {
		buf, err := be.Alloc(dt, n)
		require.NoError(b, err)
		require.NoError(b, be.Random(device.View{Buf: buf, Layout: device.Contiguous(n)}, device.Uniform, uint64(i), 0, -1, 1))
		bufs[i] = buf
	}
	require.NoError(b, be.Synchronize())
	return bufs
}

// timeGPU runs f b.N times after a warm-up and reports per-iteration time;
// the device is synchronised before the clock stops.
func timeGPU(b *testing.B, be *Backend, f func() error) float64 {
	b.Helper()
	for i := 0; i < 3; i++ {
		require.NoError(b, f())
	}
	require.NoError(b, be.Synchronize())
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	require.NoError(b, be.Synchronize())
	b.StopTimer()
	return time.Since(start).Seconds() / float64(b.N)
}

// BenchmarkGPUAdd64M: c = a + b on 64M float32 (3 x 256 MiB moved).
func BenchmarkGPUAdd64M(b *testing.B) {
	be := benchBackend(b)
	n := 64 << 20
	bufs := benchBuffers(b, be, device.Float32, n, 3)
	sec := timeGPU(b, be, func() error {
		return be.Binary(device.Add, view(bufs[2], n), view(bufs[0], n), view(bufs[1], n))
	})
	b.ReportMetric(float64(3*4*n)/sec/1e9, "GB/s")
}

// BenchmarkGPUCopy64M: device-to-device copy of 64M float32 (the
// bandwidth ceiling for Add).
func BenchmarkGPUCopy64M(b *testing.B) {
	be := benchBackend(b)
	n := 64 << 20
	bufs := benchBuffers(b, be, device.Float32, n, 2)
	sec := timeGPU(b, be, func() error { return be.Copy(view(bufs[1], n), view(bufs[0], n)) })
	b.ReportMetric(float64(2*4*n)/sec/1e9, "GB/s")
}

// BenchmarkGPUSoftmax8192: softmax over the rows of an 8192x8192 float32
// matrix (read once, written once).
func BenchmarkGPUSoftmax8192(b *testing.B) {
	be := benchBackend(b)
	const r = 8192
	bufs := benchBuffers(b, be, device.Float32, r*r, 2)
	sec := timeGPU(b, be, func() error { return be.Softmax(view(bufs[1], r, r), view(bufs[0], r, r), false) })
	b.ReportMetric(float64(2*4*r*r)/sec/1e9, "GB/s")
}

// BenchmarkGPUSumRows: Sum over the rows of an 8192x8192 float32 matrix,
// and a full Sum of 64M elements (two-pass).
func BenchmarkGPUSum64M(b *testing.B) {
	be := benchBackend(b)
	n := 64 << 20
	bufs := benchBuffers(b, be, device.Float32, n, 1)
	out, _ := be.Alloc(device.Float32, 1)
	sec := timeGPU(b, be, func() error { return be.Reduce(device.Sum, view(out), view(bufs[0], n), 1) })
	b.ReportMetric(float64(4*n)/sec/1e9, "GB/s")
}

// BenchmarkGPUSGEMM4096: 4096x4096x4096 float32 product, TF32 off and on.
func BenchmarkGPUSGEMM4096(b *testing.B) {
	be := benchBackend(b)
	const n = 4096
	for _, tf32 := range []bool{false, true} {
		b.Run(fmt.Sprintf("tf32=%v", tf32), func(b *testing.B) {
			SetAllowTF32(tf32)
			defer SetAllowTF32(false)
			bufs := benchBuffers(b, be, device.Float32, n*n, 3)
			sec := timeGPU(b, be, func() error {
				return be.MatMul(view(bufs[2], 1, n, n), view(bufs[0], 1, n, n), view(bufs[1], 1, n, n))
			})
			b.ReportMetric(2*float64(n)*n*n/sec/1e12, "TFLOP/s")
		})
	}
}

// BenchmarkGPUSmallOp: host cost of one small op (an Add of 1-element
// tensors), queued without waiting: allocation, argument packing and the
// launch.
func BenchmarkGPUSmallOp(b *testing.B) {
	be := testBackend(b)
	bufs := benchBuffers(b, be, device.Float32, 1, 2)
	sec := timeGPU(b, be, func() error {
		out, err := be.Alloc(device.Float32, 1)
		if err != nil {
			return err
		}
		err = be.Binary(device.Add, view(out, 1), view(bufs[0], 1), view(bufs[1], 1))
		be.Free(out)
		return err
	})
	b.ReportMetric(sec*1e6, "us/op")
}
