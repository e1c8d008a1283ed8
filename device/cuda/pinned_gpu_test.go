package cuda

// Tests and benchmarks of staged uploads (pinned.go). Like cuda_test.go
// they run on testBackend's device: the GPU with the cuda tag, else the
// PTX virtual machine.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// uploadSizes are the element counts the stress test draws from: direct
// (small), one piece, several pieces, and more than the whole ring.
func uploadSizes(b *Backend) []int {
	capacity, chunk := b.stageSizes()
	return []int{
		1000,                    // 4 KB: direct
		int(chunk) / 4 / 2,      // a loader batch: one piece
		int(chunk) / 4,          // one full piece
		int(chunk)/4 + 12345,    // just over one piece
		3*int(chunk)/4 + 7,      // three pieces and a bit
		int(capacity)/4*5/4 + 1, // more than the ring: waits for its own pieces
	}
}

func randomFloats(r *rand.Rand, n int) []float32 {
	h := make([]float32, n)
	for i := range h {
		h[i] = r.Float32()*2 - 1
	}
	return h
}

// checkDoubled reports the first element of got that is not exactly 2*want.
func checkDoubled(what string, got, want []float32) error {
	for i := range want {
		if got[i] != 2*want[i] {
			return fmt.Errorf("%s: element %d of %d: got %v, want %v", what, i, len(want), got[i], 2*want[i])
		}
	}
	return nil
}

// TestStagedUploadsConcurrent uploads many batches of random data from
// several goroutines while another keeps the compute stream busy and
// switches between the staged and the direct path. Each batch is read by
// a kernel, then overwritten at once by a second upload into the same
// (live) buffer, which the copy must not reach before the first kernel
// has read it; the host slice is scribbled on as soon as Upload returns.
// Buffers are freed at once, so the allocator hands the same blocks out
// again while copies into them may still be queued.
func TestStagedUploadsConcurrent(t *testing.T) {
	b := testBackend(t)
	require.NoError(t, b.Synchronize())
	before := b.StagingStats()
	// The busy loop's matrix size and the rounds per worker: smaller on
	// the PTX virtual machine, which checks the ordering, not the speed.
	mm, rounds, pause := 1024, 25, 100*time.Microsecond
	if b.Emulated() {
		// The machine runs a product in about a millisecond: queueing
		// one every 100 µs would grow the queue without bound.
		mm, rounds, pause = 32, 4, 5*time.Millisecond
	}
	sizes := uploadSizes(b)

	stop := make(chan struct{})
	var busy sync.WaitGroup
	var busyErr error // read after busy.Wait
	busy.Add(1)
	go func() { // the training loop: long kernels, and path switches
		defer busy.Done()
		n := mm
		r := rand.New(rand.NewPCG(7, 7))
		m := make([]device.Buffer, 3)
		for i := range m {
			if m[i], busyErr = b.Alloc(device.Float32, n*n); busyErr != nil {
				return
			}
			if busyErr = b.Random(view(m[i], n*n), device.Uniform, uint64(i), 0, -1, 1); busyErr != nil {
				return
			}
		}
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			if busyErr = b.MatMul(view(m[2], 1, n, n), view(m[0], 1, n, n), view(m[1], 1, n, n)); busyErr != nil {
				return
			}
			if k%8 == 0 {
				b.stage.forceDirect.Store(r.IntN(4) == 0)
			}
			if b.Emulated() && k%2 == 1 {
				// The virtual machine runs queued work when someone waits
				// for it, as fast as the host allows: on a busy host the
				// products would queue faster than they run, and every
				// synchronisation of the workers would inherit an
				// ever-longer queue. Waiting for every second product
				// keeps work queued across the uploads, and bounded.
				if busyErr = b.Synchronize(); busyErr != nil {
					return
				}
			}
			time.Sleep(pause)
		}
	}()

	const workers = 6
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			for it := 0; it < rounds; it++ {
				if err := stagedRound(b, r, sizes[r.IntN(len(sizes))]); err != nil {
					errs <- fmt.Errorf("worker %d, round %d: %w", w, it, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	busy.Wait()
	b.stage.forceDirect.Store(false)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, busyErr, "the goroutine keeping the compute stream busy")
	require.NoError(t, b.Synchronize())

	st := b.StagingStats()
	t.Logf("%v", st)
	require.Empty(t, st.Disabled)
	capacity, _ := b.stageSizes()
	require.Equal(t, capacity, st.PinnedBytes)
	require.Greater(t, st.Staged, before.Staged)
	require.Greater(t, st.Chunks-before.Chunks, st.Staged-before.Staged, "large uploads go in several pieces")
	require.Greater(t, st.Direct, before.Direct)
}

// stagedRound is one round of TestStagedUploadsConcurrent on n elements.
func stagedRound(b *Backend, r *rand.Rand, n int) error {
	h1, h2 := randomFloats(r, n), randomFloats(r, n)
	keep1, keep2 := append([]float32(nil), h1...), append([]float32(nil), h2...)
	x, err := b.Alloc(device.Float32, n)
	if err != nil {
		return err
	}
	y, err := b.Alloc(device.Float32, n)
	if err != nil {
		return err
	}
	z, err := b.Alloc(device.Float32, n)
	if err != nil {
		return err
	}
	if err := b.Upload(x, h1); err != nil {
		return err
	}
	scribble(h1) // the host slice is free once Upload returns
	if err := b.Binary(device.Add, view(y, n), view(x, n), view(x, n)); err != nil {
		return err
	}
	// x is still read by the Add queued above: this copy must wait for it.
	if err := b.Upload(x, h2); err != nil {
		return err
	}
	scribble(h2)
	if err := b.Binary(device.Add, view(z, n), view(x, n), view(x, n)); err != nil {
		return err
	}
	got := make([]float32, n)
	if err := b.Download(got, y); err != nil {
		return err
	}
	if err := checkDoubled("first upload, read by a kernel before the second", got, keep1); err != nil {
		return err
	}
	if err := b.Download(got, z); err != nil {
		return err
	}
	if err := checkDoubled("second upload into the live buffer", got, keep2); err != nil {
		return err
	}

	// A freed destination handed out again at once: a late copy into it
	// would overwrite the new owner's Fill.
	if err := b.Upload(x, keep1); err != nil {
		return err
	}
	p := x.(*buffer).ptr()
	// x last: the cache hands out the most recently freed block first.
	for _, buf := range []device.Buffer{y, z, x} {
		if err := b.Free(buf); err != nil {
			return err
		}
	}
	w, err := b.Alloc(device.Float32, n)
	if err != nil {
		return err
	}
	defer b.Free(w)
	if err := b.Fill(view(w, n), 7); err != nil {
		return err
	}
	if err := b.Download(got, w); err != nil {
		return err
	}
	for i, v := range got {
		if v != 7 {
			return fmt.Errorf("a reused block (the freed one: %v): element %d is %v after Fill(7): a staged copy landed late", w.(*buffer).ptr() == p, i, v)
		}
	}
	return nil
}

func scribble(h []float32) {
	for i := range h {
		h[i] = float32(math.NaN())
	}
}

// queueMatMuls queues count 4096^3 float32 products: several
// milliseconds of GPU work each.
func queueMatMuls(t testing.TB, b *Backend, count int) {
	t.Helper()
	const n = 4096
	m := make([]device.Buffer, 3)
	for i := range m {
		var err error
		m[i], err = b.Alloc(device.Float32, n*n)
		require.NoError(t, err)
		require.NoError(t, b.Fill(view(m[i], n*n), 0.5))
	}
	for i := 0; i < count; i++ {
		require.NoError(t, b.MatMul(view(m[2], 1, n, n), view(m[0], 1, n, n), view(m[1], 1, n, n)))
	}
}

// computeBusy reports whether the compute stream still has work running.
func computeBusy(t testing.TB, b *Backend) bool {
	done, err := b.drv.streamDone(b.stream)
	require.NoError(t, err)
	return !done
}

// TestStagedUploadDoesNotWaitForKernels queues long kernels and checks
// that a staged upload that fits the ring returns while they still run,
// and that kernels queued after it see its data. The direct path's time
// for the same upload, that of a small upload (always direct), and that
// of an upload larger than the ring (which waits for ring space, so for
// the kernels) are logged beside it.
func TestStagedUploadDoesNotWaitForKernels(t *testing.T) {
	b := testBackend(t)
	if b.Emulated() {
		t.Skip("times uploads against seconds of GPU matrix products: a test of the hardware's overlap, not for the PTX virtual machine")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{128, 64 * 784, 512 * 784, 6 << 20, 16 << 20} {
		for _, direct := range []bool{false, true} {
			t.Run(fmt.Sprintf("n=%d/direct=%v", n, direct), func(t *testing.T) {
				host := randomFloats(r, n)
				x, err := b.Alloc(device.Float32, n)
				require.NoError(t, err)
				y, err := b.Alloc(device.Float32, n)
				require.NoError(t, err)
				require.NoError(t, b.Upload(x, host)) // first use: starts the ring outside the timing
				require.NoError(t, b.Synchronize())
				b.stage.forceDirect.Store(direct)
				defer b.stage.forceDirect.Store(false)

				start := time.Now()
				queueMatMuls(t, b, 20)
				queued := time.Since(start)
				t0 := time.Now()
				require.NoError(t, b.Upload(x, host))
				upload := time.Since(t0)
				stillBusy := computeBusy(t, b)
				require.NoError(t, b.Binary(device.Add, view(y, n), view(x, n), view(x, n)))
				require.NoError(t, b.Synchronize())
				total := time.Since(start)
				t.Logf("%s (staged: %v): queueing the kernels %v, Upload returned after %v, compute stream busy then: %v, all done after %v",
					fmtBytes(int64(4*n)), !direct && stagedUpload(int64(4*n)), queued, upload, stillBusy, total)
				got := download(t, b, y)
				require.NoError(t, checkDoubled("after the kernels", got, host))
				if !direct && stagedUpload(int64(4*n)) && 4*int64(n) <= stageCapacity {
					require.True(t, stillBusy, "the staged upload returned only after the queued kernels finished")
					require.Less(t, upload, total/4, "the staged upload waited for the queued kernels")
				}
			})
		}
	}
}

// BenchmarkUploadOverlap compares staged uploads with the direct path
// (cuMemcpyHtoDAsync from Go memory on the compute stream) for a 64x784
// and a 512x784 float32 batch and 64 MiB:
//
//   - idle: uploads back to back; GB/s is the end-to-end throughput
//     (the clock stops after Synchronize);
//   - behind-matmul: each upload follows a 1024^3 product queued on the
//     compute stream, as the loader's uploads follow a training step;
//     host-us/upload is how long the uploading goroutine was blocked.
func BenchmarkUploadOverlap(b *testing.B) {
	be := benchBackend(b)
	const mm = 1024
	m := benchBuffers(b, be, device.Float32, mm*mm, 3)
	for _, sz := range []struct {
		name string
		n    int
	}{{"64x784", 64 * 784}, {"512x784", 512 * 784}, {"64MiB", 16 << 20}} {
		host := randomFloats(rand.New(rand.NewPCG(1, 2)), sz.n)
		bufs := benchBuffers(b, be, device.Float32, sz.n, 4)
		for _, mode := range []string{"idle", "behind-matmul"} {
			for _, path := range []string{"staged", "direct"} {
				b.Run(sz.name+"/"+mode+"/"+path, func(b *testing.B) {
					be.stage.forceDirect.Store(path == "direct")
					defer be.stage.forceDirect.Store(false)
					step := func(i int) (time.Duration, error) {
						if mode == "behind-matmul" {
							if err := be.MatMul(view(m[2], 1, mm, mm), view(m[0], 1, mm, mm), view(m[1], 1, mm, mm)); err != nil {
								return 0, err
							}
						}
						t0 := time.Now()
						err := be.Upload(bufs[i%len(bufs)], host)
						return time.Since(t0), err
					}
					for i := 0; i < 3; i++ {
						_, err := step(i)
						require.NoError(b, err)
					}
					require.NoError(b, be.Synchronize())
					var blocked time.Duration
					b.SetBytes(int64(4 * sz.n))
					b.ResetTimer()
					start := time.Now()
					for i := 0; i < b.N; i++ {
						d, err := step(i)
						if err != nil {
							b.Fatal(err)
						}
						blocked += d
					}
					require.NoError(b, be.Synchronize())
					b.StopTimer()
					sec := time.Since(start).Seconds() / float64(b.N)
					b.ReportMetric(float64(4*sz.n)/sec/1e9, "GB/s")
					b.ReportMetric(blocked.Seconds()*1e6/float64(b.N), "host-us/upload")
				})
			}
		}
	}
}
