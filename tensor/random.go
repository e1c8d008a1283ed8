package tensor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cpu"
)

// Generator is a reproducible source of random numbers: PyTorch's CPU
// generator, rewritten. It holds a 32-bit Mersenne Twister (mt19937) and
// turns its words into numbers exactly as PyTorch 1.13 does on the CPU,
// so that after tensor.ManualSeed(s) (or NewGenerator(s)) the functions
// listed in the package documentation under "Random numbers" return the
// numbers torch.manual_seed(s) gives, in the same order, on any device.
//
// A Generator also keeps a Philox4x32-10 counter for the draws that are
// made where the data live, on the GPU as on the CPU: dropout masks.
// Those are reproducible from the seed but are not PyTorch's.
//
// State and SetState save and restore everything; a Generator is safe
// for concurrent use.
type Generator struct {
	mu     sync.Mutex
	mt     mt19937
	normal normalCache
	// The Philox key and the number of Philox counters used so far.
	philoxSeed, philoxOffset uint64
}

// defaultSeed is PyTorch's default seed (default_rng_seed_val). PyTorch
// seeds its default generator from the operating system when a program
// never calls manual_seed; nabla starts from this fixed seed instead, so
// an unseeded program is reproducible from run to run.
const defaultSeed = 67280421310721

var defaultGen = NewGenerator(defaultSeed)

// NewGenerator returns a generator seeded with seed, the equivalent of
// torch.Generator().manual_seed(seed).
func NewGenerator(seed uint64) *Generator {
	g := &Generator{}
	g.reset(seed)
	return g
}

// DefaultGenerator returns the generator used when Options name none
// (PyTorch's torch.default_generator).
func DefaultGenerator() *Generator { return defaultGen }

// ManualSeed reseeds the default generator, as torch.manual_seed: every
// later Rand, Randn, RandInt, RandPerm, initialisation, shuffle and
// dropout mask is reproducible, and the first group gives PyTorch's
// numbers.
func ManualSeed(seed uint64) { defaultGen.ManualSeed(seed) }

// ManualSeed reseeds g (torch.Generator.manual_seed): the Mersenne
// Twister restarts from seed (only its low 32 bits matter, as in
// PyTorch), the cached normal value is dropped and the Philox counter
// restarts at 0 under key seed.
func (g *Generator) ManualSeed(seed uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reset(seed)
}

func (g *Generator) reset(seed uint64) {
	g.mt.reset(seed)
	g.normal = normalCache{}
	g.philoxSeed, g.philoxOffset = seed, 0
}

// InitialSeed returns the seed g was last seeded with
// (torch.initial_seed).
func (g *Generator) InitialSeed() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mt.seed
}

// Int63 draws a non-negative int64 from the full 63-bit range: two words
// of the Mersenne Twister, modulo 2⁶³, as
// torch.empty((), dtype=torch.int64).random_(generator=g).item(). The
// data loader draws its per-epoch seeds this way.
func (g *Generator) Int63() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return int64(g.mt.uint64() & (1<<63 - 1))
}

// reservePhilox claims n consecutive Philox counters and returns the key
// and the first counter.
func (g *Generator) reservePhilox(n int) (seed, offset uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	seed, offset = g.philoxSeed, g.philoxOffset
	g.philoxOffset += uint64(n)
	return seed, offset
}

// PhiloxState returns the key and the number of Philox counters used so
// far: what the dropout masks drawn next depend on.
func (g *Generator) PhiloxState() (seed, offset uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.philoxSeed, g.philoxOffset
}

// Sizes of the serialised state: PyTorch's CPU generator state
// (torch.get_rng_state(), a CPUGeneratorImplState on x86-64 and arm64)
// and nabla's, which appends the Philox key and counter.
const (
	torchStateSize = 5056
	StateSize      = torchStateSize + 16
)

// Offsets in PyTorch's CPUGeneratorImplState.
const (
	stInitialSeed = 0    // uint64
	stLeft        = 8    // int32
	stSeeded      = 12   // int32
	stNext        = 16   // uint64
	stWords       = 24   // 624 × uint64, each holding one 32-bit word
	stNormalY     = 5024 // float64, the cached double normal value
	stNormalValid = 5040 // int32
	stFloatNormal = 5048 // float32
	stFloatValid  = 5052 // bool
)

// State returns g's whole state, StateSize bytes: first PyTorch's CPU
// generator state, byte for byte what torch.get_rng_state() returns when
// PyTorch's generator stands where g does (so torch.set_rng_state can
// continue g's stream in Python), then the Philox key and counter, two
// little-endian uint64s.
func (g *Generator) State() []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := make([]byte, StateSize)
	le := binary.LittleEndian
	le.PutUint64(b[stInitialSeed:], g.mt.seed)
	le.PutUint32(b[stLeft:], uint32(g.mt.left))
	le.PutUint32(b[stSeeded:], 1)
	le.PutUint64(b[stNext:], uint64(g.mt.next))
	for i, w := range g.mt.state {
		le.PutUint64(b[stWords+8*i:], uint64(w))
	}
	if g.normal.doubleValid {
		le.PutUint64(b[stNormalY:], math.Float64bits(g.normal.double))
		le.PutUint32(b[stNormalValid:], 1)
	}
	if g.normal.floatValid {
		le.PutUint32(b[stFloatNormal:], math.Float32bits(g.normal.float))
		b[stFloatValid] = 1
	}
	le.PutUint64(b[torchStateSize:], g.philoxSeed)
	le.PutUint64(b[torchStateSize+8:], g.philoxOffset)
	return b
}

// ErrGeneratorState is wrapped by the errors of SetState.
var ErrGeneratorState = errors.New("invalid generator state")

// SetState restores a state returned by State. It also accepts the 5056
// bytes of PyTorch's torch.get_rng_state() (saved with
// torch.get_rng_state().numpy().tobytes()), which continue PyTorch's
// stream; the Philox key is then the state's initial seed and the
// counter 0. A state of another size or with impossible values is
// refused with an error wrapping ErrGeneratorState, and g is unchanged.
func (g *Generator) SetState(state []byte) error {
	if len(state) != StateSize && len(state) != torchStateSize {
		return fmt.Errorf("tensor: Generator.SetState: %w: %d bytes, want %d (nabla) or %d (torch.get_rng_state)",
			ErrGeneratorState, len(state), StateSize, torchStateSize)
	}
	le := binary.LittleEndian
	var mt mt19937
	mt.seed = le.Uint64(state[stInitialSeed:])
	left := int64(int32(le.Uint32(state[stLeft:])))
	next := le.Uint64(state[stNext:])
	seeded := le.Uint32(state[stSeeded:])
	// Reading a word needs next < 624 whenever no twist comes first:
	// left-1 words are read before the next twist, from index next on.
	if seeded != 1 || left < 1 || left > mtN || next > mtN || (left > 1 && uint64(left)+next > mtN+1) {
		return fmt.Errorf("tensor: Generator.SetState: %w: Mersenne Twister position left=%d next=%d seeded=%d is impossible",
			ErrGeneratorState, left, next, seeded)
	}
	mt.left, mt.next = int32(left), uint32(next)
	for i := range mt.state {
		w := le.Uint64(state[stWords+8*i:])
		if w > math.MaxUint32 {
			return fmt.Errorf("tensor: Generator.SetState: %w: state word %d is %d, more than 32 bits", ErrGeneratorState, i, w)
		}
		mt.state[i] = uint32(w)
	}
	var nc normalCache
	switch le.Uint32(state[stNormalValid:]) {
	case 0:
	case 1:
		nc.double, nc.doubleValid = math.Float64frombits(le.Uint64(state[stNormalY:])), true
	default:
		return fmt.Errorf("tensor: Generator.SetState: %w: the cached-normal flag is not 0 or 1", ErrGeneratorState)
	}
	switch state[stFloatValid] {
	case 0:
	case 1:
		nc.float, nc.floatValid = math.Float32frombits(le.Uint32(state[stFloatNormal:])), true
	default:
		return fmt.Errorf("tensor: Generator.SetState: %w: the cached-float flag is not 0 or 1", ErrGeneratorState)
	}
	pseed, poff := mt.seed, uint64(0)
	if len(state) == StateSize {
		pseed, poff = le.Uint64(state[torchStateSize:]), le.Uint64(state[torchStateSize+8:])
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.mt, g.normal, g.philoxSeed, g.philoxOffset = mt, nc, pseed, poff
	return nil
}

func (o Options) generator() *Generator {
	if o.gen != nil {
		return o.gen
	}
	return defaultGen
}

// random draws a tensor of o's dtype and shape on the CPU, filling its
// memory in row-major order with fill under the generator's lock, and
// moves it to o's device: the numbers are the same on every device.
func (o Options) random(op string, shape []int, fill func(g *Generator, data any)) *Tensor {
	o.backend(op) // a device that cannot be used fails before anything is drawn
	t := empty(op, backendOf(op, device.CPU()), o.dtype, shape)
	g := o.generator()
	g.mu.Lock()
	func() {
		defer g.mu.Unlock()
		fill(g, cpu.Data(t.buf))
	}()
	return t.To(o.dev)
}

// Rand returns values drawn uniformly from [0, 1) (torch.rand).
func (o Options) Rand(shape ...int) *Tensor {
	requireFloatDType("Rand", o.dtype)
	return o.uniform("Rand", 0, 1, shape)
}

// Uniform returns values drawn uniformly from [lo, hi)
// (torch.empty(...).uniform_(lo, hi)).
func (o Options) Uniform(lo, hi float64, shape ...int) *Tensor {
	requireFloatDType("Uniform", o.dtype)
	if !(lo <= hi) {
		fail("Uniform", ErrArgument, "empty range [%v, %v)", lo, hi)
	}
	return o.uniform("Uniform", lo, hi, shape)
}

// uniform is PyTorch's uniform_kernel: Float32 bounds are first rounded
// to float32, each Float32 value uses one word and each Float64 value
// two.
func (o Options) uniform(op string, lo, hi float64, shape []int) *Tensor {
	return o.random(op, shape, func(g *Generator, data any) {
		switch d := data.(type) {
		case []float32:
			from, to := float32(lo), float32(hi)
			for i := range d {
				d[i] = uniform32(&g.mt, from, to)
			}
		case []float64:
			for i := range d {
				d[i] = uniform64(&g.mt, lo, hi)
			}
		}
	})
}

// Randn returns values drawn from the standard normal distribution
// (torch.randn).
func (o Options) Randn(shape ...int) *Tensor { return o.Normal(0, 1, shape...) }

// Normal returns values drawn from a normal distribution
// (torch.empty(...).normal_(mean, std)). As in PyTorch, a tensor of 16
// or more elements is filled by blocks of 16 (Box-Muller on pairs of
// uniforms), a smaller one value by value from pairs of doubles, keeping
// the second value of a pair for the next draw.
func (o Options) Normal(mean, std float64, shape ...int) *Tensor {
	requireFloatDType("Normal", o.dtype)
	if !(std >= 0) {
		fail("Normal", ErrArgument, "standard deviation %v is negative", std)
	}
	return o.random("Normal", shape, func(g *Generator, data any) {
		switch d := data.(type) {
		case []float32:
			if len(d) >= 16 {
				normalFill32(&g.mt, d, float32(mean), float32(std))
				return
			}
			for i := range d {
				d[i] = float32(normalScalar(&g.mt, &g.normal, mean, std))
			}
		case []float64:
			if len(d) >= 16 {
				normalFill64(&g.mt, d, mean, std)
				return
			}
			for i := range d {
				d[i] = normalScalar(&g.mt, &g.normal, mean, std)
			}
		}
	})
}

// RandInt returns integers drawn uniformly from [lo, hi) (torch.randint).
// With the default Float32 options the result is Int64, as in PyTorch.
// Each value is one word modulo hi-lo, or two words when hi-lo ≥ 2³²
// (for Int64, Float32 and Float64).
func (o Options) RandInt(lo, hi int64, shape ...int) *Tensor {
	if hi <= lo {
		fail("RandInt", ErrArgument, "empty range [%d, %d)", lo, hi)
	}
	if o.dtype == Float32 {
		o.dtype = Int64
	}
	span := uint64(hi) - uint64(lo)
	wide := span >= 1<<32 && o.dtype != Bool && o.dtype != Uint8
	return o.random("RandInt", shape, func(g *Generator, data any) {
		draw := func() int64 {
			var v uint64
			if wide {
				v = g.mt.uint64()
			} else {
				v = uint64(g.mt.uint32())
			}
			return int64(v%span + uint64(lo))
		}
		switch d := data.(type) {
		case []int64:
			for i := range d {
				d[i] = draw()
			}
		case []float32:
			for i := range d {
				d[i] = float32(draw())
			}
		case []float64:
			for i := range d {
				d[i] = float64(draw())
			}
		case []uint8:
			for i := range d {
				d[i] = uint8(draw())
			}
		case []bool:
			for i := range d {
				d[i] = draw() != 0
			}
		}
	})
}

// Bernoulli returns 1 with probability p and 0 otherwise, in o's dtype
// (torch.empty(...).bernoulli_(p)): each value compares a uniform double
// (two words) with p.
func (o Options) Bernoulli(p float64, shape ...int) *Tensor {
	if p < 0 || p > 1 {
		fail("Bernoulli", ErrArgument, "probability %v is outside [0, 1]", p)
	}
	return o.random("Bernoulli", shape, func(g *Generator, data any) {
		draw := func() bool { return uniform64(&g.mt, 0, 1) < p }
		switch d := data.(type) {
		case []float32:
			for i := range d {
				d[i] = b2f[float32](draw())
			}
		case []float64:
			for i := range d {
				d[i] = b2f[float64](draw())
			}
		case []int64:
			for i := range d {
				d[i] = b2f[int64](draw())
			}
		case []uint8:
			for i := range d {
				d[i] = b2f[uint8](draw())
			}
		case []bool:
			for i := range d {
				d[i] = draw()
			}
		}
	})
}

func b2f[T float32 | float64 | int64 | uint8](b bool) T {
	if b {
		return 1
	}
	return 0
}

// RandPerm returns a random permutation of 0..n-1 as an Int64 tensor on
// o's device (torch.randperm): starting from the identity, position i
// (for i from 0 to n-2) is swapped with position i + w mod (n-i) for the
// next word w.
func (o Options) RandPerm(n int) *Tensor {
	if n < 0 {
		fail("RandPerm", ErrArgument, "n must be non-negative, got %d", n)
	}
	o.dtype = Int64
	return o.random("RandPerm", []int{n}, func(g *Generator, data any) {
		p := data.([]int64)
		for i := range p {
			p[i] = int64(i)
		}
		for i := 0; i < n-1; i++ {
			z := i + int(uint64(g.mt.uint32())%uint64(n-i))
			p[i], p[z] = p[z], p[i]
		}
	})
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
