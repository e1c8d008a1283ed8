package tensor_test

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

func TestManualSeed(t *testing.T) {
	tensor.ManualSeed(777)
	require.Equal(t, uint64(777), tensor.DefaultGenerator().InitialSeed())
	a := tensor.Rand(5).Float32s()
	b := tensor.Randn(2, 3).Float32s()
	p := tensor.RandPerm(10).Int64s()

	tensor.ManualSeed(777)
	require.Equal(t, a, tensor.Rand(5).Float32s())
	require.Equal(t, b, tensor.Randn(2, 3).Float32s())
	require.Equal(t, p, tensor.RandPerm(10).Int64s())
	require.NotEqual(t, a, tensor.Rand(5).Float32s(), "later draws continue the stream")

	tensor.ManualSeed(778)
	require.NotEqual(t, a, tensor.Rand(5).Float32s(), "another seed, another stream")

	// Reseeding drops the cached second normal of a pair.
	tensor.ManualSeed(5)
	first := tensor.Randn(1).Float32s()
	tensor.ManualSeed(5)
	require.Equal(t, first, tensor.Randn(1).Float32s())
}

func TestGenerators(t *testing.T) {
	g1, g2 := tensor.NewGenerator(42), tensor.NewGenerator(42)
	o1, o2 := tensor.Options{}.WithGenerator(g1), tensor.Options{}.WithGenerator(g2)
	require.Equal(t, o1.Rand(100).Float32s(), o2.Rand(100).Float32s())
	require.Equal(t, o1.Of(tensor.Float64).Randn(7).Float64s(), o2.Of(tensor.Float64).Randn(7).Float64s())
	require.Equal(t, o1.RandInt(0, 10, 9).Int64s(), o2.RandInt(0, 10, 9).Int64s())
	require.Equal(t, o1.RandPerm(20).Int64s(), o2.RandPerm(20).Int64s())
	require.Equal(t, o1.Bernoulli(0.5, 9).Float32s(), o2.Bernoulli(0.5, 9).Float32s())

	// A generator of its own leaves the default generator alone.
	tensor.ManualSeed(1)
	before := tensor.DefaultGenerator().State()
	tensor.Options{}.WithGenerator(tensor.NewGenerator(9)).Rand(50)
	require.Equal(t, before, tensor.DefaultGenerator().State())

	// Uniform draws are sequential: drawing 3 then 2 is drawing 5.
	g := tensor.NewGenerator(5)
	o := tensor.Options{}.WithGenerator(g)
	first := append(o.Rand(3).Float32s(), o.Rand(2).Float32s()...)
	require.Equal(t, tensor.Options{}.WithGenerator(tensor.NewGenerator(5)).Rand(5).Float32s(), first)

	// State and SetState save and restore a stream exactly, the cached
	// normal value included (Randn(3) leaves one).
	o.Randn(3)
	saved := g.State()
	next := o.Randn(4).Float32s()
	require.NoError(t, g.SetState(saved))
	require.Equal(t, next, o.Randn(4).Float32s())
	h := tensor.NewGenerator(0)
	require.NoError(t, h.SetState(saved))
	require.Equal(t, saved, h.State())
	require.Equal(t, uint64(5), h.InitialSeed())

	// The shape does not change the stream, only its arrangement.
	a := tensor.Options{}.WithGenerator(tensor.NewGenerator(8)).Rand(2, 3).Float32s()
	b := tensor.Options{}.WithGenerator(tensor.NewGenerator(8)).Rand(6).Float32s()
	require.Equal(t, b, a)

	// Int63 is two words modulo 2^63.
	x, y := tensor.NewGenerator(3), tensor.NewGenerator(3)
	words := tensor.Options{}.WithGenerator(y).RandInt(0, 1<<62, 1).Int64s()[0] // one 64-bit draw modulo 2^62
	require.Equal(t, words, x.Int63()%(1<<62))
}

func TestGeneratorState(t *testing.T) {
	g := tensor.NewGenerator(12)
	tensor.Options{}.WithGenerator(g).Randn(5) // leaves a cached normal
	state := g.State()
	require.Len(t, state, tensor.StateSize)
	// The Philox part: key and counter, after PyTorch's 5056 bytes.
	tensorOps.Dropout(tensor.Ones(10), 0.5, g)
	seed, off := g.PhiloxState()
	require.Equal(t, [2]uint64{12, 10}, [2]uint64{seed, off})
	require.NoError(t, g.SetState(state))
	seed, off = g.PhiloxState()
	require.Equal(t, [2]uint64{12, 0}, [2]uint64{seed, off})

	// PyTorch's own 5056 bytes are accepted: the Philox counter restarts.
	require.NoError(t, g.SetState(state[:5056]))

	bad := func(mutate func(b []byte), fragment string) {
		t.Helper()
		b := append([]byte(nil), state...)
		mutate(b)
		h := tensor.NewGenerator(1)
		before := h.State()
		err := h.SetState(b)
		require.ErrorIs(t, err, tensor.ErrGeneratorState)
		require.ErrorContains(t, err, fragment)
		require.Equal(t, before, h.State(), "a refused state changes nothing")
	}
	le := binary.LittleEndian
	bad(func(b []byte) { le.PutUint32(b[8:], 0) }, "left=0")
	bad(func(b []byte) { le.PutUint32(b[8:], 625) }, "left=625")
	bad(func(b []byte) { le.PutUint32(b[8:], 0xffffffff) }, "left=-1")
	bad(func(b []byte) { le.PutUint32(b[12:], 0) }, "seeded=0")
	bad(func(b []byte) { le.PutUint64(b[16:], 625) }, "next=625")
	bad(func(b []byte) { le.PutUint32(b[8:], 600); le.PutUint64(b[16:], 100) }, "left=600 next=100")
	bad(func(b []byte) { le.PutUint64(b[24+8*7:], 1<<32) }, "state word 7")
	bad(func(b []byte) { le.PutUint32(b[5040:], 2) }, "cached-normal flag")
	bad(func(b []byte) { b[5052] = 3 }, "cached-float flag")
	for _, n := range []int{0, 100, 5055, 5057, tensor.StateSize - 1, tensor.StateSize + 1} {
		err := tensor.NewGenerator(1).SetState(make([]byte, n))
		require.ErrorIs(t, err, tensor.ErrGeneratorState, "%d bytes", n)
	}
	// The states PyTorch's engine can be in after any number of draws
	// are all accepted.
	h := tensor.NewGenerator(2)
	for range 700 {
		require.NoError(t, tensor.NewGenerator(0).SetState(h.State()))
		h.Int63()
	}
}
func TestGeneratorConcurrent(t *testing.T) {
	// Goroutines sharing a generator draw disjoint parts of one stream:
	// each draw holds the generator for its whole tensor.
	g := tensor.NewGenerator(11)
	o := tensor.Options{}.WithGenerator(g).Of(tensor.Float64)
	var mu sync.Mutex
	var all []float64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := o.Rand(100).Float64s()
			mu.Lock()
			all = append(all, v...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	seq := tensor.NewGenerator(11)
	want := tensor.Options{}.WithGenerator(seq).Of(tensor.Float64).Rand(800).Float64s()
	require.Equal(t, seq.State(), g.State())
	slices.Sort(all)
	slices.Sort(want)
	require.Equal(t, want, all)
}

func moments(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)-1))
}

func TestDistributions(t *testing.T) {
	const n = 100000
	o := tensor.Options{}.WithGenerator(tensor.NewGenerator(2024))
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		u := values(o.Of(dt).Rand(n))
		for _, x := range u {
			require.True(t, x >= 0 && x < 1, "Rand in [0, 1): %v", x)
		}
		mean, std := moments(u)
		require.InDelta(t, 0.5, mean, 0.005)
		require.InDelta(t, math.Sqrt(1.0/12), std, 0.005)

		g := values(o.Of(dt).Randn(n))
		mean, std = moments(g)
		require.InDelta(t, 0, mean, 0.02)
		require.InDelta(t, 1, std, 0.02)
		within := 0
		for _, x := range g {
			if math.Abs(x) < 1 {
				within++
			}
		}
		require.InDelta(t, 0.6827, float64(within)/n, 0.01, "68% within one sigma")

		nm := values(o.Of(dt).Normal(3, 0.5, n))
		mean, std = moments(nm)
		require.InDelta(t, 3, mean, 0.01)
		require.InDelta(t, 0.5, std, 0.01)

		un := values(o.Of(dt).Uniform(-2, 6, n))
		for _, x := range un {
			require.True(t, x >= -2 && x < 6)
		}
		mean, _ = moments(un)
		require.InDelta(t, 2, mean, 0.05)
	}
	require.Equal(t, tensor.Float32, tensor.Rand(2).DType())
	require.Equal(t, []int{2, 3}, tensor.Randn(2, 3).Shape())
	require.Equal(t, []int{}, tensor.Rand().Shape())
	require.Equal(t, []int{0, 4}, tensor.Rand(0, 4).Shape())
}

func TestRandInt(t *testing.T) {
	o := tensor.Options{}.WithGenerator(tensor.NewGenerator(3))
	x := o.RandInt(-3, 4, 10000)
	require.Equal(t, tensor.Int64, x.DType(), "RandInt gives Int64 by default, as PyTorch")
	counts := map[int64]int{}
	for _, v := range x.Int64s() {
		require.True(t, v >= -3 && v < 4, "%d in [-3, 4)", v)
		counts[v]++
	}
	require.Len(t, counts, 7, "every value occurs")
	for v, c := range counts {
		require.InDelta(t, 10000.0/7, c, 200, "value %d", v)
	}
	f := o.Of(tensor.Float64).RandInt(0, 2, 100)
	require.Equal(t, tensor.Float64, f.DType())
	for _, v := range f.Float64s() {
		require.True(t, v == 0 || v == 1)
	}
	require.Equal(t, []int64{5, 5, 5}, tensor.RandInt(5, 6, 3).Int64s())
	big := o.RandInt(1<<40, 1<<40+3, 100).Int64s()
	for _, v := range big {
		require.True(t, v >= 1<<40 && v < 1<<40+3)
	}
	requireFails(t, tensor.ErrArgument, func() { tensor.RandInt(3, 3, 1) }, "tensor: RandInt: empty range [3, 3)")
	requireFails(t, tensor.ErrArgument, func() { tensor.RandInt(4, 3, 1) }, "empty range")
}

func TestRandPerm(t *testing.T) {
	for _, n := range []int{0, 1, 2, 10, 1000} {
		p := tensor.RandPerm(n)
		require.Equal(t, tensor.Int64, p.DType())
		require.Equal(t, []int{n}, p.Shape())
		got := p.Int64s()
		slices.Sort(got)
		for i, v := range got {
			require.Equal(t, int64(i), v, "a permutation of 0..%d", n-1)
		}
	}
	// Not the identity, and different draws differ.
	a, b := tensor.RandPerm(50).Int64s(), tensor.RandPerm(50).Int64s()
	require.NotEqual(t, a, b)
	require.False(t, slices.IsSorted(a))
	requireFails(t, tensor.ErrArgument, func() { tensor.RandPerm(-1) }, "tensor: RandPerm: n must be non-negative, got -1")
}

func TestBernoulli(t *testing.T) {
	o := tensor.Options{}.WithGenerator(tensor.NewGenerator(17))
	require.Equal(t, []float32{0, 0, 0, 0}, o.Bernoulli(0, 4).Float32s())
	require.Equal(t, []float32{1, 1, 1, 1}, o.Bernoulli(1, 4).Float32s())
	m, _ := moments(values(o.Bernoulli(0.3, 100000)))
	require.InDelta(t, 0.3, m, 0.01)
	bools := o.Of(tensor.Bool).Bernoulli(0.5, 1000)
	require.Equal(t, tensor.Bool, bools.DType())
	require.InDelta(t, 500, bools.Sum().Item(), 80)
	requireFails(t, tensor.ErrArgument, func() { o.Bernoulli(1.5, 2) }, "tensor: Bernoulli: probability 1.5 is outside [0, 1]")
	requireFails(t, tensor.ErrArgument, func() { o.Bernoulli(-0.1, 2) }, "outside [0, 1]")
}

func TestRandomErrors(t *testing.T) {
	requireFails(t, tensor.ErrDType, func() { tensor.Of(tensor.Int64).Rand(2) }, "tensor: Rand: draws floating-point values; ask for Float32 or Float64, not int64")
	requireFails(t, tensor.ErrDType, func() { tensor.Of(tensor.Bool).Randn(2) }, "tensor: Normal: draws floating-point values")
	requireFails(t, tensor.ErrDType, func() { tensor.Of(tensor.Uint8).Uniform(0, 1, 2) }, "tensor: Uniform: draws floating-point values")
	requireFails(t, tensor.ErrShape, func() { tensor.Rand(-1) }, "negative dimension")
}
