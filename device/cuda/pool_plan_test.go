package cuda

// Emulation of kernels/pool.cu in Go, run without a GPU: the kernels'
// index arithmetic (32-bit plane decomposition with plane_of, tap
// ranges, gather order of the backward pass) on the poolArgs the host
// packs, compared with the CPU backend bit for bit.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cpu"
)

func emuPlaneOf(e, d int64, inv float64) int64 {
	q := int64(float64(e) * inv)
	if q*d > e {
		q--
	} else if (q+1)*d <= e {
		q++
	}
	return q
}

// emuPoolFwd mirrors pool_fwd for float64.
func emuPoolFwd(max bool, y, x []float64, idx []int64, a *poolArgs) {
	opl := a.OH * a.OW
	for e := int64(0); e < a.NOut; e++ {
		plane := emuPlaneOf(e, opl, a.InvOut)
		pos := e - plane*opl
		oy, ox := pos/a.OW, pos%a.OW
		nn, ch := plane/a.C, plane%a.C
		src := nn*a.Xs[0] + ch*a.Xs[1]
		y0, x0 := oy*a.SH-a.PH, ox*a.SW-a.PW
		best, at := 0.0, int64(-1)
		if max {
			best = math.Inf(-1)
		}
		for i := range a.KH {
			iy := y0 + i*a.DH
			if iy < 0 || iy >= a.H {
				continue
			}
			for j := range a.KW {
				ix := x0 + j*a.DW
				if ix < 0 || ix >= a.W {
					continue
				}
				v := x[src+iy*a.Xs[2]+ix*a.Xs[3]]
				if max {
					if at < 0 || v > best || (v != v && best == best) {
						best, at = v, iy*a.W+ix
					}
				} else {
					best += v
				}
			}
		}
		if !max {
			best /= float64(a.KH * a.KW)
		}
		y[nn*a.Ys[0]+ch*a.Ys[1]+oy*a.Ys[2]+ox*a.Ys[3]] = best
		if max {
			idx[nn*a.Is[0]+ch*a.Is[1]+oy*a.Is[2]+ox*a.Is[3]] = at
		}
	}
}

// emuPoolBwd mirrors pool_bwd for float64.
func emuPoolBwd(max bool, dx, dy []float64, idx []int64, a *poolArgs) {
	pl := a.H * a.W
	for e := int64(0); e < a.NIn; e++ {
		plane := emuPlaneOf(e, pl, a.InvIn)
		self := e - plane*pl
		y, x := self/a.W, self%a.W
		nn, ch := plane/a.C, plane%a.C
		g := nn*a.Ys[0] + ch*a.Ys[1]
		ib := nn*a.Is[0] + ch*a.Is[1]
		sum := 0.0
		for i := a.KH - 1; i >= 0; i-- {
			t := y + a.PH - i*a.DH
			if t < 0 || t%a.SH != 0 {
				continue
			}
			oy := t / a.SH
			if oy >= a.OH {
				continue
			}
			for j := a.KW - 1; j >= 0; j-- {
				u := x + a.PW - j*a.DW
				if u < 0 || u%a.SW != 0 {
					continue
				}
				ox := u / a.SW
				if ox >= a.OW {
					continue
				}
				v := dy[g+oy*a.Ys[2]+ox*a.Ys[3]]
				if max {
					if idx[ib+oy*a.Is[2]+ox*a.Is[3]] == self {
						sum += v
					}
				} else {
					sum += v
				}
			}
		}
		if !max {
			sum *= a.Scale
		}
		dx[nn*a.Xs[0]+ch*a.Xs[1]+y*a.Xs[2]+x*a.Xs[3]] = sum
	}
}

func TestPoolKernelEmulationMatchesCPU(t *testing.T) {
	ref, err := device.Get(device.CPU())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(7, 8))
	geoms := []struct {
		n, c, h, w int
		g          device.ConvGeometry
	}{
		{2, 3, 8, 8, device.ConvGeometry{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}},
		{1, 2, 7, 9, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
		{3, 1, 9, 8, device.ConvGeometry{KernelH: 3, KernelW: 2, StrideH: 1, StrideW: 3, PadH: 1, DilationH: 2, DilationW: 3}},
		{2, 2, 5, 6, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
	}
	for gi, c := range geoms {
		for _, op := range []device.PoolOp{device.MaxPool, device.AvgPool} {
			t.Run(fmt.Sprintf("%d/%v", gi, op), func(t *testing.T) {
				oh, ow := c.g.OutSize(c.h, c.w)
				xl := device.Contiguous(c.n, c.c, c.h, c.w)
				yl := device.Contiguous(c.n, c.c, oh, ow)
				// Permuted input: stored as [C, N, W, H].
				xp := device.Layout{Shape: xl.Shape, Strides: []int{c.h * c.w, c.n * c.h * c.w, 1, c.h}}
				x := make([]float64, xl.Numel())
				for i := range x {
					x[i] = float64(r.IntN(5)) - 2 // ties
				}
				dy := make([]float64, yl.Numel())
				for i := range dy {
					dy[i] = r.Float64()*2 - 1
				}
				xb, _ := cpu.Wrap(x)
				dyb, _ := cpu.Wrap(dy)
				yb, _ := ref.Alloc(device.Float64, yl.Numel())
				ib, _ := ref.Alloc(device.Int64, yl.Numel())
				dxb, _ := ref.Alloc(device.Float64, xl.Numel())
				var iv device.View
				if op == device.MaxPool {
					iv = device.View{Buf: ib, Layout: yl}
				}
				require.NoError(t, ref.Pool2d(op, device.View{Buf: yb, Layout: yl}, iv, device.View{Buf: xb, Layout: xp}, c.g))
				require.NoError(t, ref.Pool2dBackward(op, device.View{Buf: dxb, Layout: xp}, device.View{Buf: dyb, Layout: yl}, iv, c.g))

				a := newPoolArgs(xp, yl, iv.Layout, c.g)
				ey, eidx := make([]float64, yl.Numel()), make([]int64, yl.Numel())
				emuPoolFwd(op == device.MaxPool, ey, x, eidx, &a)
				require.Equal(t, cpu.Data(yb), ey)
				if op == device.MaxPool {
					require.Equal(t, cpu.Data(ib), eidx)
				}
				edx := make([]float64, xl.Numel())
				emuPoolBwd(op == device.MaxPool, edx, dy, eidx, &a)
				require.Equal(t, cpu.Data(dxb), edx)
			})
		}
	}
	require.True(t, poolFits(64, 32, 28, 28, 14, 14))
	require.False(t, poolFits(1, 1, 1<<16, 1<<16, 1, 1))
}
