package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// ceLayout returns an [m, c] layout of the given kind and the buffer
// length it needs: "contiguous", "transposed" (column-major) or "sliced"
// (every other column of a wider matrix, from row 1 on).
func ceLayout(kind string, m, c int) (device.Layout, int) {
	switch kind {
	case "transposed":
		return device.Layout{Shape: []int{m, c}, Strides: []int{1, m}}, m * c
	case "sliced":
		w := 2*c + 1
		return device.Layout{Shape: []int{m, c}, Strides: []int{w, 2}, Offset: w + 1}, (m + 1) * w
	}
	return device.Contiguous(m, c), m * c
}

// ceVec returns an [m] layout with stride st (0 broadcasts one value).
func ceVec(m, st int) (device.Layout, int) {
	return device.Layout{Shape: []int{m}, Strides: []int{st}, Offset: 1}, 1 + max((m-1)*st+1, 1)
}

// ceCase is one CrossEntropy input: logits (as float64, laid out by
// xl), labels and the backward pass's incoming gradient, with the
// layouts of every operand.
type ceCase struct {
	x          []float64
	xl         device.Layout
	labels     []int64
	ll         device.Layout
	g          []float64
	gl         device.Layout
	dxl        device.Layout
	dxLen      int
	rows, cols int
}

// at reads x[i, j] through the layout.
func (c *ceCase) at(i, j int) float64 { return c.x[c.xl.Offset+i*c.xl.Strides[0]+j*c.xl.Strides[1]] }

func (c *ceCase) label(i int) int64 { return c.labels[c.ll.Offset+i*c.ll.Strides[0]] }
func (c *ceCase) grad(i int) float64 {
	return c.g[c.gl.Offset+i*c.gl.Strides[0]]
}

// newCECase draws logits of scale times a standard normal, uniform labels,
// and gradients in ±[0.5, 2).
func newCECase(r *rand.Rand, m, c int, xKind, dxKind string, labelStride, gStride int, scale float64) *ceCase {
	k := &ceCase{rows: m, cols: c}
	var n int
	k.xl, n = ceLayout(xKind, m, c)
	k.x = make([]float64, n)
	for i := range k.x {
		k.x[i] = scale * r.NormFloat64()
	}
	k.ll, n = ceVec(m, labelStride)
	k.labels = make([]int64, n)
	for i := range k.labels {
		k.labels[i] = int64(r.IntN(max(c, 1)))
	}
	k.gl, n = ceVec(m, gStride)
	k.g = make([]float64, n)
	for i := range k.g {
		k.g[i] = (0.5 + 1.5*r.Float64()) * float64(1-2*r.IntN(2))
	}
	k.dxl, k.dxLen = ceLayout(dxKind, m, c)
	return k
}

// ceRound rounds v to dt's precision, so the reference sees the values
// the backend sees.
func ceRound(dt device.DType, v float64) float64 {
	if dt == device.Float32 {
		return float64(float32(v))
	}
	return v
}

// ceReference computes the definitions directly in float64: lse[i] =
// max + log Σ e^(x - max), loss[i] = lse[i] - x[i, k], and
// dx[i, j] = g[i]·(e^(x[i, j] - lse[i]) - [j == k]) with lse as the
// backend gets it (rounded to dt).
func ceReference(dt device.DType, k *ceCase) (loss, lse, dx []float64) {
	loss, lse, dx = make([]float64, k.rows), make([]float64, k.rows), make([]float64, k.rows*k.cols)
	for i := range k.rows {
		m := math.Inf(-1)
		for j := range k.cols {
			m = math.Max(m, ceRound(dt, k.at(i, j)))
		}
		var s float64
		for j := range k.cols {
			s += math.Exp(ceRound(dt, k.at(i, j)) - m)
		}
		lse[i] = m + math.Log(s)
		lab := int(k.label(i))
		loss[i] = lse[i] - ceRound(dt, k.at(i, lab))
		l := ceRound(dt, lse[i])
		for j := range k.cols {
			p := math.Exp(ceRound(dt, k.at(i, j)) - l)
			if j == lab {
				p--
			}
			dx[i*k.cols+j] = ceRound(dt, k.grad(i)) * p
		}
	}
	return loss, lse, dx
}

// ceHostView copies vals into a new CPU buffer of dtype dt with layout l.
func ceHostView(t *testing.T, dt device.DType, vals []float64, l device.Layout) device.View {
	t.Helper()
	b, err := cpuBackend.Alloc(dt, len(vals))
	require.NoError(t, err)
	switch d := Data(b).(type) {
	case []float32:
		for i, v := range vals {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, vals)
	}
	return device.View{Buf: b, Layout: l}
}

// ceRead returns the elements of v in row-major order as float64.
func ceRead(v device.View) []float64 {
	var out []float64
	walkOffsets(v.Layout, func(off int) {
		switch d := Data(v.Buf).(type) {
		case []float32:
			out = append(out, float64(d[off]))
		case []float64:
			out = append(out, d[off])
		}
	})
	return out
}

// ceRun runs CrossEntropy and CrossEntropyBackward (with the lse the
// forward pass wrote) on the CPU backend.
func ceRun(t *testing.T, dt device.DType, k *ceCase) (loss, lse, dx []float64) {
	t.Helper()
	x := ceHostView(t, dt, k.x, k.xl)
	lb, err := Wrap(k.labels)
	require.NoError(t, err)
	labels := device.View{Buf: lb, Layout: k.ll}
	lossV := ceHostView(t, dt, make([]float64, k.rows+3), device.Layout{Shape: []int{k.rows}, Strides: []int{1}, Offset: 3})
	lseV := ceHostView(t, dt, make([]float64, 2*k.rows+1), device.Layout{Shape: []int{k.rows}, Strides: []int{2}})
	require.NoError(t, cpuBackend.CrossEntropy(lossV, lseV, x, labels))
	g := ceHostView(t, dt, k.g, k.gl)
	dxV := ceHostView(t, dt, make([]float64, k.dxLen), k.dxl)
	require.NoError(t, cpuBackend.CrossEntropyBackward(dxV, x, lseV, labels, g))
	return ceRead(lossV), ceRead(lseV), ceRead(dxV)
}

// ceRequireClose checks |got - want| <= tol·max(|want|, floor[i]) element
// by element; floor may be nil (then 1e-30).
func ceRequireClose(t *testing.T, what string, want, got []float64, tol float64, floor []float64) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		f := 1e-30
		if floor != nil {
			f = floor[i]
		}
		bound := tol * max(math.Abs(want[i]), f)
		require.LessOrEqual(t, math.Abs(got[i]-want[i]), bound, "%s: element %d: want %v, got %v", what, i, want[i], got[i])
	}
}

func TestCPUCrossEntropyMatchesReference(t *testing.T) {
	type shape struct{ m, c int }
	cases := []struct {
		name        string
		shapes      []shape
		x, dx       string
		labelStride int
		gStride     int
		scale       float64
	}{
		{name: "contiguous", shapes: []shape{{5, 1}, {0, 7}, {7, 10}, {64, 10}, {33, 1000}, {3, 4097}, {2, 20000}}, x: "contiguous", dx: "contiguous", labelStride: 1, gStride: 1, scale: 3},
		{name: "transposed x, strided labels, broadcast g", shapes: []shape{{5, 1}, {7, 10}, {33, 1000}, {3, 4097}}, x: "transposed", dx: "contiguous", labelStride: 2, gStride: 0, scale: 3},
		{name: "sliced x, column-major dx", shapes: []shape{{1, 1}, {9, 7}, {17, 513}}, x: "sliced", dx: "transposed", labelStride: 3, gStride: 2, scale: 3},
		{name: "large logits", shapes: []shape{{7, 10}, {5, 1000}}, x: "contiguous", dx: "sliced", labelStride: 1, gStride: 1, scale: 1e4},
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, tc := range cases {
		for _, s := range tc.shapes {
			for _, dt := range []device.DType{device.Float32, device.Float64} {
				t.Run(fmt.Sprintf("%s/%dx%d/%v", tc.name, s.m, s.c, dt), func(t *testing.T) {
					k := newCECase(r, s.m, s.c, tc.x, tc.dx, tc.labelStride, tc.gStride, tc.scale)
					wantLoss, wantLSE, wantDx := ceReference(dt, k)
					loss, lse, dx := ceRun(t, dt, k)
					// float32: the exponentials are accurate to 3e-7, the
					// outputs rounded to 6e-8; a gradient entry's error is
					// relative to |g| (the label's g·(p-1) may cancel).
					tol := 1e-6
					if dt == device.Float64 {
						tol = 1e-12
					}
					ones := make([]float64, s.m)
					for i := range ones {
						ones[i] = 1
					}
					ceRequireClose(t, "lse", wantLSE, lse, tol, ones)
					ceRequireClose(t, "loss", wantLoss, loss, tol, ones)
					gFloor := make([]float64, len(wantDx))
					for i := range gFloor {
						gFloor[i] = math.Abs(k.grad(i / s.c))
					}
					ceRequireClose(t, "dx", wantDx, dx, 2*tol, gFloor)
					for i := range loss {
						require.False(t, math.IsInf(loss[i], 0) || math.IsNaN(loss[i]), "loss %d = %v", i, loss[i])
						require.GreaterOrEqual(t, loss[i], 0.0, "loss %d", i)
					}
				})
			}
		}
	}
}

// TestCPUCrossEntropyNonFinite checks that lse follows the LogSumExp
// reduction on rows with NaN and infinities.
func TestCPUCrossEntropyNonFinite(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	rows := [][]float64{
		{1, 2, 3, 4},
		{1, nan, 3, 4},
		{-inf, -inf, -inf, -inf},
		{-inf, 0, 1, -inf},
		{1, inf, 2, 3},
		{inf, nan, 1, 2},
		{inf, 1, inf, 2},
	}
	labels := []int64{3, 0, 1, 2, 0, 2, 1}
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			var flat []float64
			for _, r := range rows {
				flat = append(flat, r...)
			}
			m := len(rows)
			x := ceHostView(t, dt, flat, device.Contiguous(m, 4))
			lb, _ := Wrap(labels)
			loss := ceHostView(t, dt, make([]float64, m), device.Contiguous(m))
			lse := ceHostView(t, dt, make([]float64, m), device.Contiguous(m))
			require.NoError(t, cpuBackend.CrossEntropy(loss, lse, x, device.View{Buf: lb, Layout: device.Contiguous(m)}))
			red := ceHostView(t, dt, make([]float64, m), device.Contiguous(m))
			require.NoError(t, cpuBackend.Reduce(device.LogSumExp, red, x, 1))
			want, got, gotLoss := ceRead(red), ceRead(lse), ceRead(loss)
			same := func(what string, i int, want, got float64) {
				switch {
				case math.IsNaN(want):
					require.True(t, math.IsNaN(got), "row %d: %s %v, want NaN", i, what, got)
				case math.IsInf(want, 0):
					require.Equal(t, want, got, "row %d: %s", i, what)
				default:
					require.InEpsilon(t, want, got, 1e-6, "row %d: %s", i, what)
				}
			}
			for i := range want {
				same("lse", i, want[i], got[i])
				same("loss", i, want[i]-ceRound(dt, rows[i][labels[i]]), gotLoss[i])
			}
		})
	}
}

func TestCPUCrossEntropyErrors(t *testing.T) {
	f32 := func(shape ...int) device.View {
		return ceHostView(t, device.Float32, make([]float64, device.Numel(shape)), device.Contiguous(shape...))
	}
	i64 := func(vals ...int64) device.View {
		b, _ := Wrap(vals)
		return device.View{Buf: b, Layout: device.Contiguous(len(vals))}
	}
	f64 := func(shape ...int) device.View {
		return ceHostView(t, device.Float64, make([]float64, device.Numel(shape)), device.Contiguous(shape...))
	}
	ints, _ := cpuBackend.Alloc(device.Int64, 6)
	cases := []struct {
		name string
		run  func() error
		msg  string
	}{
		{"label too large", func() error { return cpuBackend.CrossEntropy(f32(3), f32(3), f32(3, 4), i64(0, 3, 4)) }, "label 4 of row 2 is outside [0, 4)"},
		{"negative label", func() error { return cpuBackend.CrossEntropy(f32(2), f32(2), f32(2, 4), i64(-1, 0)) }, "label -1 of row 0 is outside [0, 4)"},
		{"backward label", func() error {
			return cpuBackend.CrossEntropyBackward(f32(2, 4), f32(2, 4), f32(2), i64(0, 9), f32(2))
		}, "cross_entropy backward: label 9 of row 1"},
		{"int logits", func() error {
			return cpuBackend.CrossEntropy(f32(2), f32(2), device.View{Buf: ints, Layout: device.Contiguous(2, 3)}, i64(0, 1))
		}, "not implemented for int64 logits"},
		{"1-D logits", func() error { return cpuBackend.CrossEntropy(f32(4), f32(4), f32(4), i64(0, 1, 2, 3)) }, "must be an [M, C] view"},
		{"float labels", func() error { return cpuBackend.CrossEntropy(f32(2), f32(2), f32(2, 3), f32(2)) }, "labels must be int64"},
		{"label count", func() error { return cpuBackend.CrossEntropy(f32(2), f32(2), f32(2, 3), i64(0, 1, 2)) }, "labels of shape [3] do not match"},
		{"loss shape", func() error { return cpuBackend.CrossEntropy(f32(3), f32(2), f32(2, 3), i64(0, 1)) }, "loss has shape [3], want [2]"},
		{"lse dtype", func() error { return cpuBackend.CrossEntropy(f32(2), f64(2), f32(2, 3), i64(0, 1)) }, "lse has dtype float64"},
		{"no classes", func() error { return cpuBackend.CrossEntropy(f32(2), f32(2), f32(2, 0), i64(0, 1)) }, "have no classes"},
		{"dx shape", func() error {
			return cpuBackend.CrossEntropyBackward(f32(3, 2), f32(2, 3), f32(2), i64(0, 1), f32(2))
		}, "gradient dx has shape [3 2]"},
		{"g shape", func() error {
			return cpuBackend.CrossEntropyBackward(f32(2, 3), f32(2, 3), f32(2), i64(0, 1), f32(1))
		}, "g has shape [1], want [2]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.Error(t, err)
			require.ErrorContains(t, err, tc.msg)
			require.ErrorContains(t, err, "device: cpu: cross_entropy")
		})
	}
}

// TestCPUCrossEntropyBadLabelWritesNothing checks that a bad label is
// found before any output is written.
func TestCPUCrossEntropyBadLabelWritesNothing(t *testing.T) {
	x := ceHostView(t, device.Float64, []float64{1, 2, 3, 4, 5, 6}, device.Contiguous(2, 3))
	lb, _ := Wrap([]int64{0, 3})
	loss := ceHostView(t, device.Float64, []float64{-7, -7}, device.Contiguous(2))
	lse := ceHostView(t, device.Float64, []float64{-7, -7}, device.Contiguous(2))
	require.Error(t, cpuBackend.CrossEntropy(loss, lse, x, device.View{Buf: lb, Layout: device.Contiguous(2)}))
	require.Equal(t, []float64{-7, -7}, ceRead(loss))
	require.Equal(t, []float64{-7, -7}, ceRead(lse))
}
