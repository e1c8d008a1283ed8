package tensor

import (
	"sync"

	"github.com/nabla-go/nabla/device"
)

// Generator is a reproducible source of random tensors. It is
// counter-based (Philox4x32-10): its whole state is a seed and an offset
// that counts the numbers drawn so far, so a stream is the same on every
// device and can be saved and restored exactly. A Generator is safe for
// concurrent use.
type Generator struct {
	mu     sync.Mutex
	seed   uint64
	offset uint64
}

// defaultSeed is PyTorch's default seed, so an unseeded program is still
// reproducible from run to run.
const defaultSeed = 67280421310721

var defaultGen = NewGenerator(defaultSeed)

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed uint64) *Generator { return &Generator{seed: seed} }

// DefaultGenerator returns the generator used when Options name none.
func DefaultGenerator() *Generator { return defaultGen }

// ManualSeed reseeds the default generator, making every later Rand,
// Randn, initialisation, shuffle and dropout mask reproducible.
func ManualSeed(seed uint64) { defaultGen.SetState(seed, 0) }

// State returns the seed and the number of values drawn so far.
func (g *Generator) State() (seed, offset uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.seed, g.offset
}

// SetState restores a state returned by State.
func (g *Generator) SetState(seed, offset uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seed, g.offset = seed, offset
}

// reserve claims n consecutive counters and returns the first.
func (g *Generator) reserve(n int) (seed, offset uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	seed, offset = g.seed, g.offset
	g.offset += uint64(n)
	return seed, offset
}

func (o Options) generator() *Generator {
	if o.gen != nil {
		return o.gen
	}
	return defaultGen
}

func (o Options) random(op string, dist device.Distribution, a, b float64, shape []int) *Tensor {
	t := empty(op, o.backend(op), o.dtype, shape)
	seed, off := o.generator().reserve(t.Numel())
	check(op, t.be.Random(t.view(), dist, seed, off, a, b))
	return t
}

// Rand returns values drawn uniformly from [0, 1).
func (o Options) Rand(shape ...int) *Tensor {
	requireFloatDType("Rand", o.dtype)
	return o.random("Rand", device.Uniform, 0, 1, shape)
}

// Uniform returns values drawn uniformly from [lo, hi).
func (o Options) Uniform(lo, hi float64, shape ...int) *Tensor {
	requireFloatDType("Uniform", o.dtype)
	return o.random("Uniform", device.Uniform, lo, hi, shape)
}

// Randn returns values drawn from the standard normal distribution.
func (o Options) Randn(shape ...int) *Tensor { return o.Normal(0, 1, shape...) }

// Normal returns values drawn from a normal distribution.
func (o Options) Normal(mean, std float64, shape ...int) *Tensor {
	requireFloatDType("Normal", o.dtype)
	return o.random("Normal", device.Normal, mean, std, shape)
}

// RandInt returns integers drawn uniformly from [lo, hi). With the default
// Float32 options the result is Int64, as in PyTorch.
func (o Options) RandInt(lo, hi int64, shape ...int) *Tensor {
	if hi <= lo {
		fail("RandInt", ErrArgument, "empty range [%d, %d)", lo, hi)
	}
	if o.dtype == Float32 {
		o.dtype = Int64
	}
	return o.random("RandInt", device.IntRange, float64(lo), float64(hi), shape)
}

// Bernoulli returns 1 with probability p and 0 otherwise, in o's dtype.
func (o Options) Bernoulli(p float64, shape ...int) *Tensor {
	if p < 0 || p > 1 {
		fail("Bernoulli", ErrArgument, "probability %v is outside [0, 1]", p)
	}
	return o.random("Bernoulli", device.Bernoulli, p, 0, shape)
}

// RandPerm returns a random permutation of 0..n-1 as an Int64 CPU tensor,
// drawn from o's generator (Fisher-Yates over Philox draws).
func (o Options) RandPerm(n int) *Tensor {
	if n < 0 {
		fail("RandPerm", ErrArgument, "n must be non-negative, got %d", n)
	}
	keys := Options{gen: o.gen}.Of(Float64).Rand(max(n, 1)).Float64s()
	perm := make([]int64, n)
	for i := range perm {
		perm[i] = int64(i)
	}
	for i := n - 1; i > 0; i-- {
		j := int(keys[i] * float64(i+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return FromSlice(perm).To(o.dev)
}

func requireFloatDType(op string, dt DType) {
	if !dt.IsFloat() {
		fail(op, ErrDType, "draws floating-point values; ask for Float32 or Float64, not %v", dt)
	}
}

// Rand returns CPU Float32 values uniform on [0, 1) from the default generator.
func Rand(shape ...int) *Tensor { return Options{}.Rand(shape...) }

// Randn returns CPU Float32 standard-normal values from the default generator.
func Randn(shape ...int) *Tensor { return Options{}.Randn(shape...) }

// RandInt returns CPU Int64 values uniform on [lo, hi).
func RandInt(lo, hi int64, shape ...int) *Tensor { return Options{}.RandInt(lo, hi, shape...) }

// RandPerm returns a random permutation of 0..n-1 (Int64, CPU).
func RandPerm(n int) *Tensor { return Options{}.RandPerm(n) }
