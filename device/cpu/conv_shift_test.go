package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// TestIm2ColShifted checks the one-copy-per-tap path of Im2Col against the
// definition on geometries that take it (unit strides, output rows as wide
// as the input's), into a column buffer full of NaN so that every entry it
// fails to write shows, both contiguous and in the [K, N, L] order of
// tensor.Im2ColFlat.
func TestIm2ColShifted(t *testing.T) {
	be := newCPU()
	rng := rand.New(rand.NewPCG(3, 4))
	geoms := []struct {
		n, c, h, w int
		p          device.ConvGeometry
	}{
		{2, 3, 5, 7, device.ConvGeometry{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
		{1, 2, 6, 4, device.ConvGeometry{KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2}},
		{2, 1, 4, 3, device.ConvGeometry{KernelH: 2, KernelW: 1, StrideH: 1, StrideW: 1}},
		{1, 1, 2, 2, device.ConvGeometry{KernelH: 5, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 3, PadW: 1}},
		{1, 1, 3, 1, device.ConvGeometry{KernelH: 1, KernelW: 7, StrideH: 1, StrideW: 1, PadW: 3}},
	}
	for gi, g := range geoms {
		for _, batchMajor := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/%v", gi, batchMajor), func(t *testing.T) {
				imgShape := []int{g.n, g.c, g.h, g.w}
				colShape := g.p.ColumnShape(g.n, g.c, g.h, g.w)
				x := make([]float64, device.Numel(imgShape))
				for i := range x {
					x[i] = rng.Float64()*2 - 1
				}
				cols := make([]float64, device.Numel(colShape))
				for i := range cols {
					cols[i] = math.NaN()
				}
				xb, _ := Wrap(x)
				cb, _ := Wrap(cols)
				col := device.Contiguous(colShape...)
				if batchMajor {
					l := colShape[2]
					col.Strides = []int{l, g.n * l, 1}
				}
				src := device.View{Buf: xb, Layout: device.Contiguous(imgShape...)}
				require.True(t, newConvPlan(src.Layout, col, g.p).shiftable())
				require.NoError(t, be.Im2Col(device.View{Buf: cb, Layout: col}, src, g.p))
				require.Equal(t, im2colRef(x, g.n, g.c, g.h, g.w, g.p), readView(device.View{Buf: cb, Layout: col}))
			})
		}
	}
}
