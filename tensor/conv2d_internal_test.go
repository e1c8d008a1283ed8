package tensor

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// composeOnly hides a backend's optional interfaces (device.Convolver),
// so that tensor composes convolutions from Im2Col, MatMul and Col2Im as
// it does on backends without them.
type composeOnly struct{ device.Backend }

func onBackend(t *Tensor, be device.Backend) *Tensor {
	return &Tensor{buf: t.buf, be: be, layout: t.layout}
}

// TestConv2dDirectMatchesComposed: the CPU's direct convolution and the
// composition every other backend runs give the same values and
// gradients, up to rounding, on the same operands (strided ones too).
func TestConv2dDirectMatchesComposed(t *testing.T) {
	cases := []struct {
		x, w []int
		g    ConvGeometry
	}{
		{[]int{4, 1, 28, 28}, []int{8, 1, 3, 3}, ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
		{[]int{3, 5, 9, 7}, []int{4, 5, 3, 2}, ConvGeometry{KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, PadH: 2, PadW: 1, DilationH: 2, DilationW: 1}},
		{[]int{2, 3, 6, 6}, []int{5, 3, 1, 1}, ConvGeometry{KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1}},
	}
	for i, c := range cases {
		for _, dt := range []DType{Float32, Float64} {
			for _, strided := range []bool{false, true} {
				t.Run(fmt.Sprintf("%d/%v/strided=%v", i, dt, strided), func(t *testing.T) {
					gen := NewGenerator(uint64(i + 1))
					o := Of(dt).WithGenerator(gen)
					x, w, b := o.Randn(c.x...), o.Randn(c.w...), o.Randn(c.w[0])
					if strided {
						// The same values through transposed memory.
						x = x.Transpose(2, 3).Contiguous().Transpose(2, 3)
						w = w.Transpose(0, 1).Contiguous().Transpose(0, 1)
					}
					y := Conv2d(x, w, b, c.g)
					dy := o.Randn(y.Shape()...)
					if strided {
						dy = dy.Transpose(2, 3).Contiguous().Transpose(2, 3)
					}
					dx, dw, db := conv2dBackward(dy, x, w, c.g, true, true, true)

					be := composeOnly{x.be}
					cx, cw, cb, cdy := onBackend(x, be), onBackend(w, be), onBackend(b, be), onBackend(dy, be)
					wantY := Conv2d(cx, cw, cb, c.g)
					wantDX, wantDW, wantDB := conv2dBackward(cdy, cx, cw, c.g, true, true, true)
					tol := 1e-10
					if dt == Float32 {
						tol = 1e-4
					}
					for _, p := range []struct {
						name      string
						want, got *Tensor
					}{{"y", wantY, y}, {"dx", wantDX, dx}, {"dw", wantDW, dw}, {"db", wantDB, db}} {
						require.Equal(t, p.want.Shape(), p.got.Shape(), p.name)
						wv, gv := p.want.As(Float64).Float64s(), p.got.As(Float64).Float64s()
						for k := range wv {
							require.InDelta(t, wv[k], gv[k], tol*math.Max(1, math.Abs(wv[k])), "%s[%d]", p.name, k)
						}
					}
					// Only what is asked for.
					dx, dw, db = conv2dBackward(dy, x, w, c.g, false, true, false)
					require.Nil(t, dx)
					require.NotNil(t, dw)
					require.Nil(t, db)
					dx, dw, db = conv2dBackward(cdy, cx, nil, c.g, false, false, true)
					require.Nil(t, dx)
					require.Nil(t, dw)
					require.Equal(t, wantDB.As(Float64).Float64s(), db.As(Float64).Float64s(), "composed db alone")
				})
			}
		}
	}
}

func TestConv2dArgumentErrors(t *testing.T) {
	x, w := Randn(2, 3, 5, 5), Randn(4, 3, 3, 3)
	g := ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}
	for _, c := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"channels", func() { Conv2d(x, Randn(4, 2, 3, 3), nil, g) }, "channels"},
		{"kernel", func() { Conv2d(x, Randn(4, 3, 2, 2), nil, g) }, "kernel of the geometry"},
		{"bias", func() { Conv2d(x, w, Randn(3), g) }, "bias must be [4]"},
		{"dtype", func() { Conv2d(x, w.As(Float64), nil, g) }, "dtypes"},
		{"rank", func() { Conv2d(Randn(3, 5, 5), w, nil, g) }, "[N, C, H, W]"},
		{"missing weight", func() { conv2dBackward(Randn(2, 4, 5, 5), x, nil, g, true, false, false) }, "need both"},
		{"gradient shape", func() { conv2dBackward(Randn(2, 4, 4, 5), x, w, g, true, true, true) }, "does not match"},
	} {
		err := Catch(c.f)
		require.Error(t, err, c.name)
		require.ErrorContains(t, err, c.msg, c.name)
	}
}
