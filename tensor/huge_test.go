package tensor_test

import (
	"math"
	"testing"

	"github.com/nabla-go/nabla/device/cpu"
	"github.com/nabla-go/nabla/tensor"
)

// limitCPUMemory sets the CPU memory limit for the rest of the test, so
// that what counts as "more than the machine has" does not depend on the
// machine.
func limitCPUMemory(t *testing.T, bytes int64) {
	prev := cpu.SetMemoryLimit(bytes)
	t.Cleanup(func() { cpu.SetMemoryLimit(prev) })
}

// TestHugeRequestsFailWithTensorErrors asks for tensors that cannot exist:
// element counts that overflow int, and sizes beyond the CPU memory limit.
// Each must panic with a *tensor.Error (which tensor.Catch turns into an
// error) naming the shape, never end the process with Go's fatal
// out-of-memory error or a runtime panic from make, and never succeed with
// a wrapped-around size.
func TestHugeRequestsFailWithTensorErrors(t *testing.T) {
	limitCPUMemory(t, 1<<30)
	big := tensor.Ones(1).Expand(math.MaxInt/2 + 1) // a valid view of 2^62 elements
	for _, c := range []struct {
		name      string
		kind      error
		f         func()
		fragments []string
	}{
		{"Zeros 2^32 x 2^32 (2^64 wraps to 0)", tensor.ErrShape, func() { tensor.Zeros(1<<32, 1<<32) },
			[]string{"Zeros", "[4294967296 4294967296]", "overflows int"}},
		{"Zeros with an empty dimension and huge strides", tensor.ErrShape, func() { tensor.Zeros(0, 1<<62, 1<<62) },
			[]string{"[0 4611686018427387904 4611686018427387904]"}},
		{"Zeros beyond the limit", tensor.ErrMemory, func() { tensor.Zeros(1 << 33) },
			[]string{"Zeros", "shape [8589934592]", "float32", "34359738368 bytes (32 GiB)", "1073741824 bytes (1 GiB)", "cpu.SetMemoryLimit"}},
		{"Empty of bytes just beyond the limit", tensor.ErrMemory, func() { tensor.Of(tensor.Uint8).Empty(1<<30 + 1) },
			[]string{"Empty", "1073741825 bytes"}},
		{"Zeros whose bytes overflow", tensor.ErrMemory, func() { tensor.Of(tensor.Float64).Zeros(1 << 61) },
			[]string{"[2305843009213693952]", "more than an int can count"}},
		{"Expand to 2^32 x 2^32", tensor.ErrShape, func() { tensor.Ones(1, 1).Expand(1<<32, 1<<32) },
			[]string{"Expand", "[4294967296 4294967296]"}},
		{"Expand of an empty tensor to huge dimensions", tensor.ErrShape, func() { tensor.Ones(0, 1).Expand(0, 1<<62).Expand(1<<62, 0, 1<<62) },
			[]string{"Expand"}},
		{"Reshape of nothing to a wrapping shape", tensor.ErrShape, func() { tensor.Zeros(0).Reshape(1<<32, 1<<32, 0) },
			[]string{"Reshape", "overflows int"}},
		{"View with -1 beside a wrapping product", tensor.ErrShape, func() { tensor.Zeros(0).View(1<<32, 1<<32, -1) },
			[]string{"View"}},
		{"broadcast to 2^64 elements", tensor.ErrShape, func() {
			tensor.Ones(1, 1).Expand(1<<32, 1).Add(tensor.Ones(1, 1).Expand(1, 1<<32))
		}, []string{"Add", "overflows int"}},
		{"Cat of sizes that add up past int", tensor.ErrShape, func() { tensor.Cat([]*tensor.Tensor{big, big}, 0) },
			[]string{"Cat", "add up"}},
		{"copy of a huge view", tensor.ErrMemory, func() { big.Contiguous() }, []string{"[4611686018427387904]"}},
		{"Arange(0, 1e18, 1)", tensor.ErrMemory, func() { tensor.Arange(0, 1e18, 1) },
			[]string{"Arange", "[1000000000000000000]"}},
		{"Arange of more elements than an int counts", tensor.ErrShape, func() { tensor.Arange(-1e300, 1e300, 1e-300) },
			[]string{"Arange", "more than an int can count"}},
		{"Linspace(0, 1, 2^62)", tensor.ErrMemory, func() { tensor.Linspace(0, 1, 1<<62) },
			[]string{"Linspace", "[4611686018427387904]"}},
		{"Eye(2^32)", tensor.ErrShape, func() { tensor.Eye(1 << 32) }, []string{"[4294967296 4294967296]"}},
		{"Rand beyond the limit", tensor.ErrMemory, func() { tensor.Rand(1 << 40) }, []string{"Rand", "[1099511627776]"}},
		{"RandPerm beyond the limit", tensor.ErrMemory, func() { tensor.RandPerm(1 << 40) }, []string{"[1099511627776]"}},
		{"Eye(-1)", tensor.ErrShape, func() { tensor.Eye(-1) }, []string{"negative dimension"}},
		{"Int64 Arange past int", tensor.ErrShape, func() { tensor.Of(tensor.Int64).Arange(0, 1e19, 1) }, []string{"Arange"}},
		{"Randn of 2^62", tensor.ErrMemory, func() { tensor.Randn(1 << 62) }, []string{"[4611686018427387904]"}},
		{"RandInt of 2^62", tensor.ErrMemory, func() { tensor.RandInt(0, 10, 1<<62) }, []string{"int64"}},
		{"Bernoulli 2^62 x 4", tensor.ErrShape, func() { tensor.Of(tensor.Float64).Bernoulli(0.5, 1<<62, 4) }, []string{"overflows int"}},
		{"Bool Full of 2^62 x 4", tensor.ErrShape, func() { tensor.Of(tensor.Bool).Full(1, 1<<62, 4) }, []string{"overflows int"}},
		{"Uint8 Ones beyond the limit", tensor.ErrMemory, func() { tensor.Of(tensor.Uint8).Ones(1 << 40) }, []string{"uint8"}},
		{"FromSlice with a wrapping shape", tensor.ErrShape, func() { tensor.FromSlice([]float32{}, 0, 1<<62, 1<<62) },
			[]string{"FromSlice"}},
		{"Im2Col whose column count wraps", tensor.ErrShape, func() {
			x := tensor.Ones(1, 1, 1, 1).Expand(1, 1<<40, 1, 1)
			tensor.Im2Col(x, tensor.ConvGeometry{KernelH: 1, KernelW: 1 << 24, StrideH: 1, StrideW: 1, PadW: 1 << 23})
		}, []string{"Im2Col", "overflows int"}},
		{"Im2Col with padding that overflows", tensor.ErrArgument, func() {
			tensor.Im2Col(tensor.Ones(1, 1, 2, 2), tensor.ConvGeometry{KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1, PadH: math.MaxInt / 2})
		}, []string{"Im2Col", "overflow"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			requireFails(t, c.kind, c.f, c.fragments...)
		})
	}
}

// TestZerosBeyondPhysicalMemory asks for more than the machine has with
// the default limit: 2^50 float32 elements are 4 PiB.
func TestZerosBeyondPhysicalMemory(t *testing.T) {
	limit, source, err := cpu.MemoryLimit()
	if err != nil || limit < 0 {
		t.Skipf("no CPU memory limit on this platform (%v, %v)", source, err)
	}
	requireFails(t, tensor.ErrMemory, func() { tensor.Zeros(1 << 50) }, "[1125899906842624]", "4503599627370496 bytes")
}

// TestExpandedSumCountsRight checks that a large valid view keeps its
// element count: before the overflow checks Ones(1, 1).Expand(2^32, 2^32)
// had Numel 0 and summed to 0.
func TestExpandedSumCountsRight(t *testing.T) {
	x := tensor.Ones(1, 1).Expand(1<<12, 1<<10)
	requireExact(t, []float64{1 << 22}, []int{}, x.Sum())
	if x.Numel() != 1<<22 {
		t.Fatalf("Numel %d", x.Numel())
	}
}
