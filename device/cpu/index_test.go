package cpu

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// TestGatherBlockPathMatchesElementPath checks Gather's block-copy fast
// path (IndexSelect-shaped indices) against element-by-element gathering,
// for contiguous and transposed sources and every selected dimension.
func TestGatherBlockPathMatchesElementPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shape := []int{4, 6, 10}
	data := make([]float64, device.Numel(shape))
	for i := range data {
		data[i] = rng.Float64()
	}
	buf, _ := Wrap(data)
	layouts := map[string]device.Layout{
		"contiguous": device.Contiguous(shape...),
		"transposed": {Shape: []int{10, 6, 4}, Strides: []int{1, 10, 60}},
	}
	for name, l := range layouts {
		for dim := range 3 {
			t.Run(name, func(t *testing.T) {
				picks := []int64{2, 0, 3, 3, 1}
				ib, _ := Wrap(picks)
				outShape := append([]int(nil), l.Shape...)
				outShape[dim] = len(picks)
				il := device.Layout{Shape: outShape, Strides: make([]int, 3)}
				il.Strides[dim] = 1
				out, _ := cpuBackend.Alloc(device.Float64, device.Numel(outShape))
				dst := device.View{Buf: out, Layout: device.Contiguous(outShape...)}
				require.NoError(t, cpuBackend.Gather(dst, device.View{Buf: buf, Layout: l}, device.View{Buf: ib, Layout: il}, dim))
				got := Data(out).([]float64)
				k := 0
				walkOffsets(dst.Layout, func(int) {
					idx := []int{k / (outShape[1] * outShape[2]), k / outShape[2] % outShape[1], k % outShape[2]}
					idx[dim] = int(picks[idx[dim]])
					want := data[l.Offset+idx[0]*l.Strides[0]+idx[1]*l.Strides[1]+idx[2]*l.Strides[2]]
					require.Equal(t, want, got[k], "element %d", k)
					k++
				})
			})
		}
	}
	// An out-of-range index is reported, not skipped.
	ib, _ := Wrap([]int64{0, 9})
	out, _ := cpuBackend.Alloc(device.Float64, 2*60)
	err := cpuBackend.Gather(device.View{Buf: out, Layout: device.Contiguous(2, 6, 10)}, device.View{Buf: buf, Layout: device.Contiguous(shape...)},
		device.View{Buf: ib, Layout: device.Layout{Shape: []int{2, 6, 10}, Strides: []int{1, 0, 0}}}, 0)
	require.ErrorContains(t, err, "index 9 is out of range for dimension 0 of size 4")
}

func TestDivScalarIsTrueDivision(t *testing.T) {
	in := []float32{3, 1, 7}
	src, _ := Wrap(in)
	out, _ := cpuBackend.Alloc(device.Float32, 3)
	require.NoError(t, cpuBackend.Unary(device.DivScalar, device.View{Buf: out, Layout: device.Contiguous(3)}, device.View{Buf: src, Layout: device.Contiguous(3)}, 255, 0))
	for i, x := range in {
		require.Equal(t, x/255, Data(out).([]float32)[i])
	}
}
