package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// naiveReduce reduces the trailing n dims of a view element by element.
func naiveReduce(op device.ReduceOp, data []float64, v device.View, n int) []float64 {
	r := v.Rank() - n
	outer := device.Layout{Shape: v.Shape[:r], Strides: v.Strides[:r], Offset: v.Offset}
	inner := device.Layout{Shape: v.Shape[r:], Strides: v.Strides[r:]}
	var out []float64
	walkOffsets(outer, func(base int) {
		var vals []float64
		walkOffsets(inner, func(off int) { vals = append(vals, data[base+off]) })
		st := initState(op)
		for i, x := range vals {
			st = combine(op, st, redState{n: 1, acc: x, idx: i})
		}
		out = append(out, finish(op, st))
	})
	return out
}

func TestReduceLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	be := cpuBackend
	cases := []struct {
		name  string
		shape []int
		perm  []int // permutation applied to a contiguous buffer
		n     int
	}{
		{"rows", []int{5, 300}, []int{0, 1}, 1},
		{"columns", []int{300, 40}, []int{1, 0}, 1},
		{"batchnorm2d", []int{4, 3, 5, 6}, []int{1, 0, 2, 3}, 3},
		{"middle", []int{3, 50, 20}, []int{0, 2, 1}, 1},
		{"all", []int{6, 7}, []int{0, 1}, 2},
		{"long single row", []int{1, 200000}, []int{0, 1}, 1},
		{"outer columns", []int{2, 64, 33}, []int{0, 2, 1}, 1},
	}
	for _, tc := range cases {
		for _, op := range []device.ReduceOp{device.Sum, device.Mean, device.Max, device.Min, device.ArgMax, device.ArgMin, device.Var, device.LogSumExp, device.Prod} {
			t.Run(tc.name+"/"+op.String(), func(t *testing.T) {
				numel := device.Numel(tc.shape)
				data := make([]float64, numel)
				for i := range data {
					data[i] = rng.NormFloat64()
					if op == device.Prod {
						data[i] = 1 + 0.001*data[i]
					}
				}
				buf, _ := Wrap(data)
				base := device.Contiguous(tc.shape...)
				v := device.View{Buf: buf, Layout: device.Layout{Offset: 0}}
				for _, p := range tc.perm {
					v.Shape = append(v.Shape, base.Shape[p])
					v.Strides = append(v.Strides, base.Strides[p])
				}
				want := naiveReduce(op, data, v, tc.n)
				outDT := device.Float64
				if op == device.ArgMax || op == device.ArgMin {
					outDT = device.Int64
				}
				dst, _ := be.Alloc(outDT, len(want))
				dv := device.View{Buf: dst, Layout: device.Contiguous(v.Shape[:v.Rank()-tc.n]...)}
				require.NoError(t, be.Reduce(op, dv, v, tc.n))
				var got []float64
				if outDT == device.Int64 {
					for _, x := range Data(dst).([]int64) {
						got = append(got, float64(x))
					}
				} else {
					got = Data(dst).([]float64)
				}
				for i := range want {
					require.InDelta(t, want[i], got[i], 1e-9*math.Max(1, math.Abs(want[i])), "output %d", i)
				}
			})
		}
	}
}

func TestSoftmaxLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, log := range []bool{false, true} {
		for _, transposed := range []bool{false, true} {
			rows, cols := 7, 300
			data := make([]float32, rows*cols)
			for i := range data {
				data[i] = float32(rng.NormFloat64() * 10)
			}
			data[5] = 1000 // stability: a huge logit must not overflow
			buf, _ := Wrap(data)
			src := device.View{Buf: buf, Layout: device.Contiguous(rows, cols)}
			if transposed {
				src.Layout = device.Layout{Shape: []int{cols, rows}, Strides: []int{1, cols}}
			}
			out, _ := cpuBackend.Alloc(device.Float32, rows*cols)
			dst := device.View{Buf: out, Layout: device.Contiguous(src.Shape...)}
			require.NoError(t, cpuBackend.Softmax(dst, src, log))
			got := Data(out).([]float32)
			r, c := src.Shape[0], src.Shape[1]
			for i := 0; i < r; i++ {
				row := make([]float64, c)
				for j := range row {
					row[j] = float64(data[src.Offset+i*src.Strides[0]+j*src.Strides[1]])
				}
				want := make([]float64, c)
				softmaxRow(want, row, log)
				for j := range row {
					require.InDelta(t, want[j], float64(got[i*c+j]), 1e-5*max(1, math.Abs(want[j])), "row %d col %d", i, j)
				}
			}
		}
	}
}
