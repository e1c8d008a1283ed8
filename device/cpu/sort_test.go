package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// sortReference sorts row stably with NaN above every number and
// returns the positions in sorted order.
func sortReference(row []float64, descending bool) []int64 {
	order := make([]int64, len(row))
	for i := range order {
		order[i] = int64(i)
	}
	slices.SortStableFunc(order, func(a, b int64) int {
		x, y := row[a], row[b]
		c := 0
		switch xn, yn := math.IsNaN(x), math.IsNaN(y); {
		case xn && yn:
		case xn || x > y:
			c = 1
		case yn || x < y:
			c = -1
		}
		if descending {
			c = -c
		}
		return c
	})
	return order
}

// sortInput is one Sort case: data of a dtype viewed through a layout
// whose last dimension is sorted.
type sortInput struct {
	name   string
	dt     device.DType
	data   []float64
	layout device.Layout
}

func (in sortInput) buffer(t *testing.T) device.Buffer {
	var host any
	switch in.dt {
	case device.Float32:
		v := make([]float32, len(in.data))
		for i, x := range in.data {
			v[i] = float32(x)
		}
		host = v
	case device.Float64:
		host = slices.Clone(in.data)
	case device.Int64:
		v := make([]int64, len(in.data))
		for i, x := range in.data {
			v[i] = int64(x)
		}
		host = v
	case device.Uint8:
		v := make([]uint8, len(in.data))
		for i, x := range in.data {
			v[i] = uint8(x)
		}
		host = v
	}
	buf, err := Wrap(host)
	require.NoError(t, err)
	return buf
}

// rows returns the values of every row of the input's view as float64.
func (in sortInput) rows() [][]float64 {
	l := in.layout
	rank := len(l.Shape)
	n := l.Shape[rank-1]
	out := make([][]float64, device.Numel(l.Shape[:rank-1]))
	for r := range out {
		off := rowOffset(l, r)
		out[r] = make([]float64, n)
		for i := range n {
			v := in.data[off+i*l.Strides[rank-1]]
			switch in.dt {
			case device.Float32:
				v = float64(float32(v))
			case device.Int64, device.Uint8:
				v = math.Trunc(v)
			}
			out[r][i] = v
		}
	}
	return out
}

func sortInputs() []sortInput {
	rng := rand.New(rand.NewPCG(3, 9))
	gen := func(n int, ties bool, special bool) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Round(rng.NormFloat64()*1000) / 100
			if ties {
				v[i] = float64(rng.IntN(4))
			}
			if special {
				v[i] = []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1, -1}[rng.IntN(7)]
			}
		}
		return v
	}
	var out []sortInput
	for _, n := range []int{1, 2, 3, 5, 8, 13, 64, 100} {
		for _, dt := range []device.DType{device.Float32, device.Float64, device.Int64, device.Uint8} {
			ties := dt == device.Uint8 || n > 10
			out = append(out, sortInput{fmt.Sprintf("%v[3 %d]", dt, n), dt, absIf(dt == device.Uint8, gen(3*n, ties, false)), device.Contiguous(3, n)})
		}
		out = append(out,
			sortInput{fmt.Sprintf("special[4 %d]", n), device.Float64, gen(4*n, false, true), device.Contiguous(4, n)},
			sortInput{fmt.Sprintf("transposed[%d 5]", n), device.Float32, gen(5*n, true, false), device.Layout{Shape: []int{n, 5}, Strides: []int{1, n}}},
			sortInput{fmt.Sprintf("strided[2 3 %d]", n), device.Float64, gen(2*3*2*n+1, false, false), device.Layout{Shape: []int{2, 3, n}, Strides: []int{1, 2 * 2 * n, 4}, Offset: 1}},
		)
	}
	out = append(out, sortInput{"1-D", device.Float32, gen(37, true, false), device.Contiguous(37)})
	return out
}

func absIf(ok bool, v []float64) []float64 {
	if ok {
		for i := range v {
			v[i] = math.Abs(v[i])
		}
	}
	return v
}

// TestSortMatchesReference runs the CPU backend's Sort and backend.SortNetwork
// (on the CPU backend's primitives, as a GPU backend runs it on its own)
// on every case, in both directions, and compares the positions with a
// reference stable sort and the values with the source elements bit for
// bit.
func TestSortMatchesReference(t *testing.T) {
	cpu := newCPU()
	sorts := map[string]func(values, indices, src device.View, descending bool) error{
		"native":  cpu.Sort,
		"network": func(v, i, s device.View, d bool) error { return backend.SortNetwork(cpu, v, i, s, d) },
	}
	for _, in := range sortInputs() {
		for _, descending := range []bool{false, true} {
			for name, sort := range sorts {
				t.Run(fmt.Sprintf("%s/%s/descending=%v", in.name, name, descending), func(t *testing.T) {
					src := device.View{Buf: in.buffer(t), Layout: in.layout}
					shape := in.layout.Shape
					ib, err := cpu.Alloc(device.Int64, device.Numel(shape))
					require.NoError(t, err)
					vb, err := cpu.Alloc(in.dt, device.Numel(shape))
					require.NoError(t, err)
					idx, vals := device.View{Buf: ib, Layout: device.Contiguous(shape...)}, device.View{Buf: vb, Layout: device.Contiguous(shape...)}
					require.NoError(t, sort(vals, idx, src, descending))
					n := shape[len(shape)-1]
					got := Data(ib).([]int64)
					for r, row := range in.rows() {
						want := sortReference(row, descending)
						require.Equal(t, want, got[r*n:(r+1)*n], "row %d: %v", r, row)
						// Values are the source elements at those positions.
						wantVals := in.buffer(t)
						wv := device.View{Buf: wantVals, Layout: in.layout}
						for i, p := range want {
							requireSameElement(t, wv, rowOffset(in.layout, r)+int(p)*in.layout.Strides[len(shape)-1], vals, r*n+i)
						}
					}
				})
			}
		}
	}
}

// requireSameElement compares element i of a's buffer with element j of
// b's, bit for bit.
func requireSameElement(t *testing.T, a device.View, i int, b device.View, j int) {
	t.Helper()
	switch x := Data(a.Buf).(type) {
	case []float32:
		require.Equal(t, math.Float32bits(x[i]), math.Float32bits(Data(b.Buf).([]float32)[j]))
	case []float64:
		require.Equal(t, math.Float64bits(x[i]), math.Float64bits(Data(b.Buf).([]float64)[j]))
	case []int64:
		require.Equal(t, x[i], Data(b.Buf).([]int64)[j])
	case []uint8:
		require.Equal(t, x[i], Data(b.Buf).([]uint8)[j])
	}
}

func TestSortErrors(t *testing.T) {
	cpu := newCPU()
	bools, _ := Wrap([]bool{true, false})
	idx, _ := cpu.Alloc(device.Int64, 2)
	scalar, _ := Wrap([]float64{1})
	cases := map[string]struct {
		src  device.View
		want string
	}{
		"bool": {device.View{Buf: bools, Layout: device.Contiguous(2)}, "bool"},
		"0-d":  {device.View{Buf: scalar, Layout: device.Contiguous()}, "at least one dimension"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			iv := device.View{Buf: idx, Layout: device.Layout{Shape: c.src.Shape, Strides: c.src.Strides}}
			require.ErrorContains(t, cpu.Sort(device.View{}, iv, c.src, false), c.want)
			require.ErrorContains(t, backend.SortNetwork(cpu, device.View{}, iv, c.src, false), c.want)
		})
	}
}
