package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// gemmOperand is a matrix laid out in a buffer for a test.
type gemmOperand[T float] struct {
	data   []T
	rs, cs int
}

func (o gemmOperand[T]) at(i, j int) T { return o.data[i*o.rs+j*o.cs] }

// gemmLayout names how a test lays out an r×c operand.
type gemmLayout int

const (
	rowMajor  gemmLayout = iota
	colMajor             // transposed: rs = 1, cs = r
	padded               // row-major with a row stride larger than c
	strided              // every other element, both ways
	bcastRows            // rs = 0: every row is the same
	bcastCols            // cs = 0: every column is the same
)

func (l gemmLayout) String() string {
	return [...]string{"row", "col", "pad", "str", "brow", "bcol"}[l]
}

// newOperand makes an r×c operand with layout l, filled with values in
// [-1, 1), at a small offset into its buffer.
func newOperand[T float](rng *rand.Rand, r, c int, l gemmLayout) gemmOperand[T] {
	const off = 3
	var rs, cs, n int
	switch l {
	case rowMajor:
		rs, cs, n = c, 1, r*c
	case colMajor:
		rs, cs, n = 1, r, r*c
	case padded:
		rs, cs, n = c+5, 1, r*(c+5)
	case strided:
		rs, cs, n = 2*(2*c+1), 2, 2*r*(2*c+1)
	case bcastRows:
		rs, cs, n = 0, 1, c
	case bcastCols:
		rs, cs, n = 1, 0, r
	}
	data := make([]T, off+n+2)
	for i := range data {
		data[i] = T(2*rng.Float64() - 1)
	}
	return gemmOperand[T]{data: data[off:], rs: rs, cs: cs}
}

// gemmRef returns the float64 product of a and b, and the sums of the
// magnitudes of the terms of each element, computed with gemmNaive.
func gemmRef[T float](m, n, k int, a, b gemmOperand[T]) (ref, mag []float64) {
	a64, aAbs := make([]float64, m*k), make([]float64, m*k)
	for i := 0; i < m; i++ {
		for p := 0; p < k; p++ {
			v := float64(a.at(i, p))
			a64[i*k+p], aAbs[i*k+p] = v, math.Abs(v)
		}
	}
	b64, bAbs := make([]float64, k*n), make([]float64, k*n)
	for p := 0; p < k; p++ {
		for j := 0; j < n; j++ {
			v := float64(b.at(p, j))
			b64[p*n+j], bAbs[p*n+j] = v, math.Abs(v)
		}
	}
	ref, mag = make([]float64, m*n), make([]float64, m*n)
	gemmNaive(m, n, k, a64, k, 1, b64, n, 1, ref, n, 1)
	gemmNaive(m, n, k, aAbs, k, 1, bAbs, n, 1, mag, n, 1)
	return ref, mag
}

// checkGemm runs gemm on a, b into a fresh C of layout cl and compares the
// result with ref: the error of each element, relative to its magnitude
// (|ref| plus the sum of the magnitudes of its terms over sqrt(k)), must be
// under tol. Elements of C's buffer outside the matrix must be untouched.
func checkGemm[T float](t *testing.T, gemm gemmFunc[T], m, n, k int, a, b gemmOperand[T], cl gemmLayout, ref, mag []float64, tol float64) {
	t.Helper()
	const sentinel = 12345
	var crs, ccs, size int
	switch cl {
	case rowMajor:
		crs, ccs, size = n, 1, m*n
	case colMajor:
		crs, ccs, size = 1, m, m*n
	case padded:
		crs, ccs, size = n+7, 1, m*(n+7)
	case strided:
		crs, ccs, size = 2*n+1, 2, m*(2*n+1)
	default:
		t.Fatalf("bad C layout %v", cl)
	}
	c := make([]T, size)
	for i := range c {
		c[i] = sentinel
	}
	gemm(m, n, k, a.data, a.rs, a.cs, b.data, b.rs, b.cs, c, crs, ccs)
	inside := make([]bool, size)
	scale := math.Sqrt(float64(max(k, 1)))
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			idx := i*crs + j*ccs
			inside[idx] = true
			got, want := float64(c[idx]), ref[i*n+j]
			if !gemmClose(got, want, mag[i*n+j]/scale, tol) {
				require.Failf(t, "wrong element", "C[%d,%d] = %v, want %v (relative error %.3g > %g)",
					i, j, got, want, math.Abs(got-want)/(math.Abs(want)+mag[i*n+j]/scale), tol)
			}
		}
	}
	for i, v := range c {
		if !inside[i] && v != sentinel {
			require.Failf(t, "write outside C", "C buffer element %d outside the matrix was written: %v", i, v)
		}
	}
}

// gemmClose reports whether got is within tol of want relative to
// |want| + scale, where scale is the sum of the magnitudes of the terms of
// want over sqrt(k); when both are zero got must equal want exactly.
func gemmClose(got, want, scale, tol float64) bool {
	denom := math.Abs(want) + scale
	if denom == 0 {
		return got == want
	}
	return math.Abs(got-want) <= tol*denom
}

type gemmCase struct {
	m, n, k int
	a, b, c gemmLayout
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("%dx%dx%d/A=%v,B=%v,C=%v", tc.m, tc.n, tc.k, tc.a, tc.b, tc.c)
}

// gemmCases lists the shapes and layouts every implementation is tried on.
func gemmCases() []gemmCase {
	shapes := [][3]int{
		{1, 1, 1}, {2, 2, 2}, {1, 1, 300}, {5, 7, 0}, {1, 100, 7}, {100, 1, 7},
		{17, 33, 9}, {12, 32, 1}, {24, 64, 300}, {13, 33, 257}, {3, 1000, 5},
		{1000, 3, 5}, {37, 150, 61}, {64, 96, 64}, {255, 257, 129}, {300, 200, 500}, {50, 70, 1600},
	}
	var cases []gemmCase
	for _, s := range shapes {
		cases = append(cases, gemmCase{s[0], s[1], s[2], rowMajor, rowMajor, rowMajor})
	}
	layouts := []gemmCase{
		{a: colMajor, b: rowMajor, c: rowMajor},
		{a: rowMajor, b: colMajor, c: rowMajor},
		{a: colMajor, b: colMajor, c: colMajor},
		{a: padded, b: strided, c: padded},
		{a: strided, b: padded, c: strided},
		{a: bcastRows, b: bcastCols, c: rowMajor},
		{a: bcastCols, b: bcastRows, c: strided},
		{a: rowMajor, b: rowMajor, c: colMajor},
		{a: rowMajor, b: rowMajor, c: strided},
	}
	for _, s := range [][3]int{{1, 1, 1}, {1, 9, 20}, {9, 1, 20}, {3, 4, 30}, {17, 33, 9}, {5, 7, 0}, {40, 70, 50}, {100, 130, 300}} {
		for _, l := range layouts {
			cases = append(cases, gemmCase{s[0], s[1], s[2], l.a, l.b, l.c})
		}
	}
	return cases
}

// gemmVariants lists every implementation to test: the package's gemm
// function, then each kernel this machine can run on 1, 2 and 3 threads
// with its own blocking and with tiny blocks (many blocks in each loop).
func gemmVariants[T float](def gemmFunc[T], kernels []gemmKernel[T]) map[string]gemmFunc[T] {
	vs := map[string]gemmFunc[T]{"default": def}
	for _, kn := range kernels {
		tiny := kn
		tiny.mc, tiny.kc, tiny.nc = 2*kn.mr, 7, 2*kn.nr
		for _, blk := range []struct {
			name string
			k    gemmKernel[T]
		}{{"", kn}, {"/tiny", tiny}} {
			g := newGemm(blk.k)
			for _, th := range []int{1, 2, 3} {
				vs[fmt.Sprintf("%s%s/t%d", kn.name, blk.name, th)] = func(m, n, k int, a []T, ars, acs int, b []T, brs, bcs int, c []T, crs, ccs int) {
					g.run(m, n, k, a, ars, acs, b, brs, bcs, c, crs, ccs, th)
				}
			}
		}
	}
	return vs
}

func testGemm[T float](t *testing.T, def gemmFunc[T], kernels []gemmKernel[T], tol float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	variants := gemmVariants(def, kernels)
	for _, tc := range gemmCases() {
		a := newOperand[T](rng, tc.m, tc.k, tc.a)
		b := newOperand[T](rng, tc.k, tc.n, tc.b)
		ref, mag := gemmRef(tc.m, tc.n, tc.k, a, b)
		t.Run(tc.String(), func(t *testing.T) {
			for name, g := range variants {
				// The large shapes take long with the portable kernel on
				// tiny blocks; its small shapes cover the same paths.
				if tc.m*tc.n*tc.k > 1<<22 && name != "default" && (len(name) < 4 || name[:3] != "avx") {
					continue
				}
				t.Run(name, func(t *testing.T) {
					checkGemm(t, g, tc.m, tc.n, tc.k, a, b, tc.c, ref, mag, tol)
				})
			}
		})
	}
}

func TestGemmF32(t *testing.T) { testGemm(t, gemmF32, gemmKernelsF32(), 1e-4) }

func TestGemmF64(t *testing.T) { testGemm(t, gemmF64, gemmKernelsF64(), 1e-12) }

func TestGemmSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{1, 1, 1}, {7, 9, 3}, {70, 90, 130}, {1, 50, 50}} {
		a := newOperand[float32](rng, s[0], s[2], rowMajor)
		b := newOperand[float32](rng, s[2], s[1], colMajor)
		ref, mag := gemmRef(s[0], s[1], s[2], a, b)
		checkGemm(t, gemmSerialF32, s[0], s[1], s[2], a, b, rowMajor, ref, mag, 1e-4)
		a64 := newOperand[float64](rng, s[0], s[2], colMajor)
		b64 := newOperand[float64](rng, s[2], s[1], rowMajor)
		ref, mag = gemmRef(s[0], s[1], s[2], a64, b64)
		checkGemm(t, gemmSerialF64, s[0], s[1], s[2], a64, b64, padded, ref, mag, 1e-12)
	}
}

// TestGemmOverlappingC checks that a C whose rows overlap (a zero row
// stride) gets what the reference loop leaves: the last row's products.
func TestGemmOverlappingC(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const m, n, k = 30, 40, 50
	a := newOperand[float64](rng, m, k, rowMajor)
	b := newOperand[float64](rng, k, n, rowMajor)
	want, got := make([]float64, n), make([]float64, n)
	gemmNaive(m, n, k, a.data, a.rs, a.cs, b.data, b.rs, b.cs, want, 0, 1)
	gemmF64(m, n, k, a.data, a.rs, a.cs, b.data, b.rs, b.cs, got, 0, 1)
	require.InDeltaSlice(t, want, got, 1e-12)
}

// TestGemmOutOfRange checks that a C too short for its layout panics
// rather than letting a kernel write past it.
func TestGemmOutOfRange(t *testing.T) {
	a := make([]float32, 64*64)
	b := make([]float32, 64*64)
	c := make([]float32, 64*64-1)
	require.Panics(t, func() { gemmF32(64, 64, 64, a, 64, 1, b, 64, 1, c, 64, 1) })
	require.Panics(t, func() { gemmF32(64, 64, 64, a[:100], 64, 1, b, 64, 1, c, 1, 1) })
}

// TestGemmAllocs checks that steady-state calls reuse their buffers.
func TestGemmAllocs(t *testing.T) {
	const n = 200
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	gemmF32(n, n, n, a, n, 1, b, n, 1, c, n, 1)
	allocs := testing.AllocsPerRun(20, func() {
		gemmF32(n, n, n, a, n, 1, b, n, 1, c, n, 1)
	})
	require.LessOrEqual(t, allocs, 8.0)
}

// matmulView uploads a batch×r×c operand with the given batch stride and
// per-item layout into a CPU buffer.
func matmulView[T float](t *testing.T, rng *rand.Rand, batch, r, c, bstride int, l gemmLayout) (device.View, []T) {
	t.Helper()
	o := newOperand[T](rng, r, c, l)
	items := 1
	if bstride > 0 {
		items = batch
	}
	n := (items-1)*bstride + len(o.data)
	data := make([]T, n)
	for i := range data {
		data[i] = T(2*rng.Float64() - 1)
	}
	buf, err := Wrap(data)
	require.NoError(t, err)
	return device.View{Buf: buf, Layout: device.Layout{Shape: []int{batch, r, c}, Strides: []int{bstride, o.rs, o.cs}}}, data
}

func TestMatMulBatched(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []struct {
		batch, m, n, k int
		aBatch, bBatch bool // whether the operand has a batch stride (else 0)
		al, bl         gemmLayout
	}{
		{1, 3, 4, 5, true, true, rowMajor, rowMajor},
		{4, 7, 5, 3, true, false, rowMajor, colMajor},
		{3, 20, 30, 40, false, true, colMajor, rowMajor},
		{16, 8, 8, 8, true, true, rowMajor, rowMajor},
		{2, 130, 120, 110, true, false, rowMajor, rowMajor},
		{5, 1, 64, 32, true, false, rowMajor, colMajor},
		{3, 4, 6, 0, true, true, rowMajor, rowMajor},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%dx%dx%dx%d", tc.batch, tc.m, tc.n, tc.k), func(t *testing.T) {
			aStride, bStride := 0, 0
			if tc.aBatch {
				aStride = tc.m*tc.k + 11
			}
			if tc.bBatch {
				bStride = tc.k*tc.n + 5
			}
			for _, dt := range []device.DType{device.Float32, device.Float64} {
				if dt == device.Float32 {
					testMatMulBatched[float32](t, rng, tc.batch, tc.m, tc.n, tc.k, aStride, bStride, tc.al, tc.bl, 1e-4)
				} else {
					testMatMulBatched[float64](t, rng, tc.batch, tc.m, tc.n, tc.k, aStride, bStride, tc.al, tc.bl, 1e-12)
				}
			}
		})
	}
}

func testMatMulBatched[T float](t *testing.T, rng *rand.Rand, batch, m, n, k, aStride, bStride int, al, bl gemmLayout, tol float64) {
	av, ad := matmulView[T](t, rng, batch, m, k, aStride, al)
	bv, bd := matmulView[T](t, rng, batch, k, n, bStride, bl)
	dst := make([]T, batch*m*n)
	for i := range dst {
		dst[i] = 777
	}
	dbuf, err := Wrap(dst)
	require.NoError(t, err)
	dv := device.View{Buf: dbuf, Layout: device.Contiguous(batch, m, n)}
	require.NoError(t, cpuBackend.MatMul(dv, av, bv))
	for i := 0; i < batch; i++ {
		a := gemmOperand[T]{data: ad[i*aStride:], rs: av.Strides[1], cs: av.Strides[2]}
		b := gemmOperand[T]{data: bd[i*bStride:], rs: bv.Strides[1], cs: bv.Strides[2]}
		ref, mag := gemmRef(m, n, k, a, b)
		scale := math.Sqrt(float64(max(k, 1)))
		for j, want := range ref {
			got := float64(dst[i*m*n+j])
			if !gemmClose(got, want, mag[j]/scale, tol) {
				require.Failf(t, "wrong element", "item %d element %d: %v, want %v", i, j, got, want)
			}
		}
	}
}

func TestMatMulErrors(t *testing.T) {
	buf, err := Wrap(make([]float32, 64))
	require.NoError(t, err)
	v := func(shape ...int) device.View { return device.View{Buf: buf, Layout: device.Contiguous(shape...)} }
	require.Error(t, cpuBackend.MatMul(v(2, 2), v(2, 2), v(2, 2)))
	require.Error(t, cpuBackend.MatMul(v(1, 2, 3), v(1, 2, 4), v(1, 3, 3)))
	require.Error(t, cpuBackend.MatMul(v(2, 2, 2), v(1, 2, 2), v(2, 2, 2)))
	require.NoError(t, cpuBackend.MatMul(v(1, 2, 3), v(1, 2, 4), v(1, 4, 3)))
}

func TestGemmVectorKernels(t *testing.T) {
	testVectorKernels[float32](t, 1e-5)
	testVectorKernels[float64](t, 1e-13)
}

func testVectorKernels[T float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(9, 10))
	for n := 0; n <= 100; n++ {
		x, y := make([]T, n+1), make([]T, n+1)
		for i := range x {
			x[i], y[i] = T(2*rng.Float64()-1), T(2*rng.Float64()-1)
		}
		var want, mag float64
		for i := 0; i < n; i++ {
			want += float64(x[i]) * float64(y[i])
			mag += math.Abs(float64(x[i]) * float64(y[i]))
		}
		got := float64(gemmDot(x[:n], y))
		require.InDelta(t, want, got, tol*(mag+1), "dot n=%d", n)

		alpha := T(0.75)
		z := append([]T(nil), y...)
		gemmAxpy(z[:n], alpha, x)
		for i := range z {
			w := y[i]
			if i < n {
				w += alpha * x[i]
			}
			require.InDelta(t, float64(w), float64(z[i]), tol, "axpy n=%d element %d", n, i)
		}
	}
}

// TestPackers checks the packing routines with vector forms (packRows,
// packTranspose) against their portable loops, over every row count the
// transposing kernels cover, widths with and without padding, and k that
// is and is not a multiple of the 16×16 (AVX2: 8×8) blocks. Guard elements
// past each panel must stay untouched. (TestPackTransposeAVX2 checks the
// AVX2 transposers on AVX-512 machines.)
func TestPackers(t *testing.T) {
	src := packerSource()
	src64 := make([]float64, len(src))
	for i, v := range src {
		src64[i] = float64(v)
	}
	checkPackTranspose(t, src)
	for rows := 1; rows <= 35; rows++ {
		for _, kc := range []int{1, 15, 16, 37, 64} {
			for _, w := range []int{rows, rows + 3} {
				// Rows of the transposed shape: kc rows of `rows` elements.
				want, got := make([]float32, kc*w), make([]float32, kc*w)
				packRowsGo(want, w, src, 3, rows+7, rows, kc)
				packRows(got, w, src, 3, rows+7, rows, kc)
				require.Equal(t, want, got, "rows cols=%d kc=%d w=%d", rows, kc, w)
				want64, got64 := make([]float64, kc*w), make([]float64, kc*w)
				packRowsGo(want64, w, src64, 3, rows+7, rows, kc)
				packRows(got64, w, src64, 3, rows+7, rows, kc)
				require.Equal(t, want64, got64, "rows float64 cols=%d kc=%d w=%d", rows, kc, w)
			}
		}
	}
}

// packerSource is the matrix the packer tests read: 40 rows of 700.
func packerSource() []float32 {
	rng := rand.New(rand.NewPCG(9, 10))
	src := make([]float32, 40*700)
	for i := range src {
		src[i] = rng.Float32()
	}
	return src
}

// checkPackTranspose compares packTranspose with packTransposeGo (see
// TestPackers).
func checkPackTranspose(t *testing.T, src []float32) {
	const guard = 17
	for rows := 1; rows <= 35; rows++ {
		for _, kc := range []int{1, 7, 8, 9, 15, 16, 37, 64} {
			for _, w := range []int{rows, rows + 3} {
				stride := 700 - rows
				want, got := make([]float32, kc*w+guard), make([]float32, kc*w+guard)
				for i := kc * w; i < len(want); i++ {
					want[i], got[i] = -7, -7
				}
				packTransposeGo(want[:kc*w], w, src, 5, stride, rows, kc)
				packTranspose(got[:kc*w], w, src, 5, stride, rows, kc)
				require.Equal(t, want, got, "transpose rows=%d kc=%d w=%d", rows, kc, w)
			}
		}
	}
}
