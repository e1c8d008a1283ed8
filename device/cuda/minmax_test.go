package cuda

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// TestMinMaxClampMatchCPUBitwise runs the float Minimum, Maximum and Clamp
// kernels on every pair of special values (±0, ±Inf, NaN, ...) and
// compares them with the CPU backend bit for bit (NaN by NaN-ness): Go's
// min and max order -0 below +0 and propagate NaN, which the tolerance of
// the tensor conformance suite does not see. Contiguous operands take the
// kernels' vector loop, strided ones the general loop.
func TestMinMaxClampMatchCPUBitwise(t *testing.T) {
	b := testBackend(t)
	ref, err := device.Get(device.CPU())
	require.NoError(t, err)

	specials := []float64{math.NaN(), 0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1), 2.5}
	var xs, ys []float64
	for _, x := range specials {
		for _, y := range specials {
			xs = append(xs, x)
			ys = append(ys, y)
		}
	}
	n := len(xs)
	layouts := []struct {
		name   string
		l      device.Layout
		stride int
	}{
		{"contiguous", device.Contiguous(n), 1},
		{"strided", device.Layout{Shape: []int{n}, Strides: []int{2}}, 2},
	}
	type op struct {
		name string
		run  func(be device.Backend, d, x, y device.View) error
	}
	ops := []op{
		{"maximum", func(be device.Backend, d, x, y device.View) error { return be.Binary(device.Maximum, d, x, y) }},
		{"minimum", func(be device.Backend, d, x, y device.View) error { return be.Binary(device.Minimum, d, x, y) }},
	}
	negZero := math.Copysign(0, -1)
	for _, bounds := range [][2]float64{{-1, 1}, {negZero, 0}, {0, negZero}, {math.NaN(), 1}, {-1, math.NaN()}, {math.Inf(-1), negZero}} {
		ops = append(ops, op{fmt.Sprintf("clamp(%v,%v)", bounds[0], bounds[1]), func(be device.Backend, d, x, _ device.View) error {
			return be.Unary(device.Clamp, d, x, bounds[0], bounds[1])
		}})
	}

	// run computes op on be over layout l (the operands' elements at
	// multiples of stride) and returns dst's elements as float64.
	run := func(be device.Backend, dt device.DType, l device.Layout, stride int, o op) []float64 {
		size := n * stride
		alloc := func(vals []float64) device.Buffer {
			buf, err := be.Alloc(dt, size)
			require.NoError(t, err)
			host := make([]float64, size)
			for i := range host {
				host[i] = 7 // between the elements of a strided layout
			}
			for i, v := range vals {
				host[i*stride] = v
			}
			if dt == device.Float32 {
				h32 := make([]float32, size)
				for i, v := range host {
					h32[i] = float32(v)
				}
				require.NoError(t, be.Upload(buf, h32))
			} else {
				require.NoError(t, be.Upload(buf, host))
			}
			return buf
		}
		x, y, d := alloc(xs), alloc(ys), alloc(nil)
		require.NoError(t, o.run(be, device.View{Buf: d, Layout: l}, device.View{Buf: x, Layout: l}, device.View{Buf: y, Layout: l}))
		out := make([]float64, n)
		if dt == device.Float32 {
			h := make([]float32, size)
			require.NoError(t, be.Download(h, d))
			for i := range out {
				out[i] = float64(h[i*stride])
			}
		} else {
			h := make([]float64, size)
			require.NoError(t, be.Download(h, d))
			for i := range out {
				out[i] = h[i*stride]
			}
		}
		return out
	}

	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for _, l := range layouts {
			for _, o := range ops {
				t.Run(fmt.Sprintf("%v/%s/%s", dt, l.name, o.name), func(t *testing.T) {
					want := run(ref, dt, l.l, l.stride, o)
					got := run(b, dt, l.l, l.stride, o)
					for i := range want {
						if math.IsNaN(want[i]) {
							require.True(t, math.IsNaN(got[i]), "x=%v y=%v: want NaN, got %v", xs[i], ys[i], got[i])
							continue
						}
						require.Equal(t, math.Float64bits(want[i]), math.Float64bits(got[i]),
							"x=%v y=%v: want %v, got %v", xs[i], ys[i], want[i], got[i])
					}
				})
			}
		}
	}
}
