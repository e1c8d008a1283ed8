package data

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// epoch runs one epoch of l and returns its batches, failing on error.
func epoch(t testing.TB, l *Loader) []Batch {
	t.Helper()
	var out []Batch
	for b, err := range l.All() {
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

// order returns the data set indices an epoch visited, in order.
func order(bs []Batch) []int {
	var out []int
	for _, b := range bs {
		out = append(out, b.Indices...)
	}
	return out
}

// requireNoLeak fails unless the number of goroutines falls back to
// before within a second.
func requireNoLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines leaked: %d before, %d after", before, runtime.NumGoroutine())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNewLoaderErrors(t *testing.T) {
	_, _, ds := seqTensors(t, 4)
	tests := []struct {
		name string
		ds   Dataset
		opts []Option
		want string
	}{
		{"nil data set", nil, nil, "data set is nil"},
		{"batch size 0", ds, []Option{BatchSize(0)}, "batch size must be positive, got 0"},
		{"batch size -3", ds, []Option{BatchSize(-3)}, "batch size must be positive, got -3"},
		{"prefetch", ds, []Option{Prefetch(-1)}, "prefetch"},
		{"workers", ds, []Option{Workers(0)}, "workers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLoader(tc.ds, tc.opts...)
			require.Nil(t, l)
			require.ErrorContains(t, err, tc.want)
		})
	}
	if _, err := device.Get(device.CUDA(0)); err != nil {
		_, lerr := NewLoader(ds, ToDevice(device.CUDA(0)))
		require.ErrorContains(t, lerr, "ToDevice(cuda:0)")
	}
}

func TestLoaderBatches(t *testing.T) {
	tests := []struct {
		n, batch int
		dropLast bool
		want     []int // batch sizes
	}{
		{10, 3, false, []int{3, 3, 3, 1}},
		{10, 3, true, []int{3, 3, 3}},
		{10, 5, false, []int{5, 5}},
		{10, 5, true, []int{5, 5}},
		{10, 10, false, []int{10}},
		{10, 20, false, []int{10}},
		{10, 20, true, nil},
		{10, 1, false, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{0, 4, false, nil},
	}
	for _, tc := range tests {
		for _, prefetch := range []int{0, 2} {
			for _, fast := range []bool{true, false} {
				name := fmt.Sprintf("n=%d/batch=%d/dropLast=%v/prefetch=%d/fast=%v", tc.n, tc.batch, tc.dropLast, prefetch, fast)
				t.Run(name, func(t *testing.T) {
					var ds Dataset = newSampleDataset(tc.n)
					if fast {
						_, _, ds = seqTensors(t, tc.n)
					}
					opts := []Option{BatchSize(tc.batch), Prefetch(prefetch)}
					if tc.dropLast {
						opts = append(opts, DropLast())
					}
					l, err := NewLoader(ds, opts...)
					require.NoError(t, err)
					require.Equal(t, len(tc.want), l.Len())
					require.Equal(t, tc.batch, l.BatchSize())
					require.Nil(t, l.Generator())
					bs := epoch(t, l)
					require.Len(t, bs, len(tc.want))
					next := 0
					for k, b := range bs {
						require.Equal(t, k, b.Seq)
						require.Equal(t, tc.want[k], b.Size())
						require.Equal(t, []int{tc.want[k], 2}, b.X().Shape())
						require.Equal(t, []int{tc.want[k]}, b.Y().Shape())
						require.Equal(t, tensor.Int64, b.Y().DType())
						for j, i := range b.Indices {
							require.Equal(t, next, i, "without shuffling the samples come in order")
							require.Equal(t, int64(i), b.Y().Int64s()[j])
							next++
						}
					}
				})
			}
		}
	}
}

func TestLoaderShuffle(t *testing.T) {
	const n = 50
	_, _, ds := seqTensors(t, n)
	newLoader := func(gen *tensor.Generator, opts ...Option) *Loader {
		l, err := NewLoader(ds, append([]Option{BatchSize(8), ShuffleWith(gen)}, opts...)...)
		require.NoError(t, err)
		return l
	}
	epochs := func(l *Loader, k int) [][]int {
		var out [][]int
		for range k {
			bs := epoch(t, l)
			got := order(bs)
			require.Len(t, got, n)
			sorted := slices.Sorted(slices.Values(got))
			for i, v := range sorted {
				require.Equal(t, i, v, "every sample appears exactly once per epoch")
			}
			for _, b := range bs { // the batch holds the samples it names
				for j, i := range b.Indices {
					require.Equal(t, int64(i), b.Y().Int64s()[j])
					require.Equal(t, []float32{float32(i), float32(10 * i)}, b.X().Select(0, j).Float32s())
				}
			}
			out = append(out, got)
		}
		return out
	}

	gen := tensor.NewGenerator(7)
	l := newLoader(gen)
	require.Same(t, gen, l.Generator())
	a := epochs(l, 3)
	require.NotEqual(t, a[0], a[1], "a new order every epoch")
	require.False(t, slices.IsSorted(a[0]))

	require.Equal(t, a, epochs(newLoader(tensor.NewGenerator(7)), 3), "same seed, same epochs")
	require.Equal(t, a, epochs(newLoader(tensor.NewGenerator(7), Prefetch(0), Workers(3)), 3),
		"the order does not depend on prefetching")
	require.NotEqual(t, a[0], epochs(newLoader(tensor.NewGenerator(8)), 1)[0], "another seed, another order")

	// Resume: restore the generator state saved after epoch 1.
	g := tensor.NewGenerator(7)
	l = newLoader(g)
	epochs(l, 1)
	resumed := tensor.NewGenerator(0)
	require.NoError(t, resumed.SetState(g.State()))
	require.Equal(t, a[1:], epochs(newLoader(resumed), 2), "a resumed run continues with the same epochs")

	// Shuffle() draws from the default generator.
	tensor.ManualSeed(99)
	l, err := NewLoader(ds, BatchSize(8), Shuffle())
	require.NoError(t, err)
	require.Same(t, tensor.DefaultGenerator(), l.Generator())
	first := epochs(l, 1)
	tensor.ManualSeed(99)
	require.Equal(t, first, epochs(l, 1))
}

func TestLoaderPrefetchOverlaps(t *testing.T) {
	// Deterministic check: while the loop body holds batch k, the
	// background goroutine asks for the samples of batch k+1.
	ds := newSampleDataset(8)
	asked := make(chan int, 8)
	ds.onGet = func(i int) { asked <- i }
	l, err := NewLoader(ds, BatchSize(2))
	require.NoError(t, err)
	for b, err := range l.All() {
		require.NoError(t, err)
		if b.Seq == l.Len()-1 {
			break
		}
		want := b.Indices[len(b.Indices)-1] + 1 // first sample of the next batch
		deadline := time.After(5 * time.Second)
	wait:
		for {
			select {
			case i := <-asked:
				if i == want {
					break wait
				}
			case <-deadline:
				t.Fatalf("batch %d: the next batch was not started while the loop body ran", b.Seq)
			}
		}
	}

	// Loose timing check: with both the data set and the loop body
	// sleeping, prefetching takes clearly less than doing one after the
	// other.
	const batches, step = 10, 20 * time.Millisecond
	run := func(prefetch int) time.Duration {
		slow := newSampleDataset(batches * 2)
		slow.sleep = step / 2 // 2 samples a batch
		l, err := NewLoader(slow, BatchSize(2), Prefetch(prefetch))
		require.NoError(t, err)
		start := time.Now()
		for _, err := range l.All() {
			require.NoError(t, err)
			time.Sleep(step) // the training step
		}
		return time.Since(start)
	}
	serial := run(0)
	overlapped := run(2)
	require.GreaterOrEqual(t, serial, 2*batches*step, "Prefetch(0) loads in the loop")
	require.Less(t, overlapped, serial*85/100, "prefetching should overlap loading with the loop body (serial %v, prefetched %v)", serial, overlapped)
}

func TestLoaderWorkersKeepOrder(t *testing.T) {
	ds := newSampleDataset(64)
	ds.onGet = func(i int) { time.Sleep(time.Duration((i*7919)%5) * time.Millisecond / 2) }
	for _, workers := range []int{1, 3, 8} {
		l, err := NewLoader(ds, BatchSize(4), Workers(workers), Prefetch(2))
		require.NoError(t, err)
		got := order(epoch(t, l))
		require.True(t, slices.IsSorted(got), "workers=%d", workers)
		require.Len(t, got, 64)
	}
}

func TestLoaderNoGoroutineLeak(t *testing.T) {
	_, _, fast := seqTensors(t, 100)
	slow := newSampleDataset(100)
	slow.sleep = time.Millisecond
	tests := []struct {
		name string
		ds   Dataset
		opts []Option
	}{
		{"fast", fast, nil},
		{"fast workers", fast, []Option{Workers(4), Prefetch(4)}},
		{"slow", slow, nil},
		{"slow workers", slow, []Option{Workers(4)}},
		{"shuffle", fast, []Option{Shuffle()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLoader(tc.ds, append([]Option{BatchSize(4)}, tc.opts...)...)
			require.NoError(t, err)
			before := runtime.NumGoroutine()
			for _, stopAt := range []int{0, 1, 5} {
				for b, err := range l.All() {
					require.NoError(t, err)
					if b.Seq == stopAt {
						break
					}
				}
				requireNoLeak(t, before)
			}
			// A panic in the loop body also stops the goroutines.
			require.PanicsWithValue(t, "boom", func() {
				for range l.All() {
					panic("boom")
				}
			})
			requireNoLeak(t, before)
			// And a complete epoch.
			require.Len(t, epoch(t, l), 25)
			requireNoLeak(t, before)
		})
	}
}

func TestLoaderErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(d *sampleDataset)
		want  string
		is    error
	}{
		{"get fails", func(d *sampleDataset) { d.failAt = 9 }, "batch 2: sample 9: sample failed", errSample},
		{"bad shape", func(d *sampleDataset) { d.badAt = 6 }, "batch 1: data: sample 6: tensor 0 has shape [3]", nil},
		{"tensor panic", func(d *sampleDataset) {
			d.panicAt = 5
			d.panicVal = tensor.Catch(func() { tensor.Zeros(2).Add(tensor.Zeros(3)) })
		}, "batch 1: tensor: Add", tensor.ErrShape},
	}
	for _, tc := range tests {
		for _, prefetch := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s/prefetch=%d", tc.name, prefetch), func(t *testing.T) {
				ds := newSampleDataset(20)
				tc.setup(ds)
				l, err := NewLoader(ds, BatchSize(4), Prefetch(prefetch))
				require.NoError(t, err)
				before := runtime.NumGoroutine()
				var good int
				var errs []error
				for b, err := range l.All() {
					if err != nil {
						errs = append(errs, err)
						continue
					}
					require.Equal(t, good, b.Seq)
					good++
				}
				require.Len(t, errs, 1, "the epoch stops after the first error")
				require.ErrorContains(t, errs[0], tc.want)
				if tc.is != nil {
					require.ErrorIs(t, errs[0], tc.is)
				}
				require.Less(t, good, 5)
				requireNoLeak(t, before)
			})
		}
	}
}

func TestLoaderReraisesOtherPanics(t *testing.T) {
	for _, prefetch := range []int{0, 2} {
		ds := newSampleDataset(20)
		ds.panicAt, ds.panicVal = 7, "dataset bug"
		l, err := NewLoader(ds, BatchSize(4), Prefetch(prefetch))
		require.NoError(t, err)
		before := runtime.NumGoroutine()
		func() {
			defer func() {
				r := recover()
				require.NotNil(t, r, "prefetch=%d", prefetch)
				require.Contains(t, fmt.Sprint(r), "dataset bug")
			}()
			for range l.All() {
			}
		}()
		requireNoLeak(t, before)
	}
}

func TestLoaderToDevice(t *testing.T) {
	_, _, ds := seqTensors(t, 10)
	devs := []device.Device{device.CPU()}
	if _, err := device.Get(device.CUDA(0)); err == nil {
		devs = append(devs, device.CUDA(0))
	}
	for _, dev := range devs {
		t.Run(dev.String(), func(t *testing.T) {
			l, err := NewLoader(ds, BatchSize(4), ToDevice(dev))
			require.NoError(t, err)
			bs := epoch(t, l)
			require.Len(t, bs, 3)
			for _, b := range bs {
				for _, x := range b.Tensors {
					require.Equal(t, dev, x.Device())
				}
			}
			require.Equal(t, []int64{8, 9}, bs[2].Y().CPU().Int64s())
		})
	}
}

func TestLoaderConcurrentEpochs(t *testing.T) {
	_, _, ds := seqTensors(t, 40)
	l, err := NewLoader(ds, BatchSize(6), ShuffleWith(tensor.NewGenerator(1)))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			n := 0
			for b, err := range l.All() {
				if err != nil {
					t.Error(err)
					return
				}
				n += b.Size()
			}
			if n != 40 {
				t.Errorf("an epoch had %d samples, want 40", n)
			}
		})
	}
	wg.Wait()
}

func TestBatchFields(t *testing.T) {
	b := Batch{Tensors: []*tensor.Tensor{tensor.Zeros(2)}, Indices: []int{0, 1}}
	require.NotNil(t, b.X())
	require.PanicsWithValue(t, "data: Batch.Y: the batch has 1 tensor(s); its samples have no field 1", func() { b.Y() })
	require.Equal(t, 2, b.Size())
}

// BenchmarkTensorDatasetEpoch measures an epoch of a TensorDataset of
// 8192 Float32 samples of 784 features with Int64 labels, in shuffled
// batches of 64 collated by IndexSelect: the backend's gather speed.
func BenchmarkTensorDatasetEpoch(b *testing.B) {
	const n = 8192
	x := tensor.Rand(n, 784)
	y := tensor.RandInt(0, 10, n)
	ds, err := TensorDataset(x, y)
	require.NoError(b, err)
	l, err := NewLoader(ds, BatchSize(64), ShuffleWith(tensor.NewGenerator(1)))
	require.NoError(b, err)
	for b.Loop() {
		for _, err := range l.All() {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "samples/s")
}
