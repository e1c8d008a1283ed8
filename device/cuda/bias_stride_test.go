package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
)

// TestBiasActivationGridStride checks the fused bias + activation kernels
// on operands large enough that every thread of a full grid handles
// several items, against Binary(Add) followed by Unary(op) on the same
// device (the backend contract: equal bit for bit). kernels/bias.cu
// advances each item's row and column by the grid stride's quotient and
// remainder with a carry, so the shapes make the column wrap within an
// iteration (rows shorter than the stride) and across several iterations
// (a row longer than it), on the vector path, the one-element-per-item
// vector path of the transcendental activations, and the strided path.
func TestBiasActivationGridStride(t *testing.T) {
	b := testBackend(t)
	step := int(gridFor(math.MaxInt32, b.Multiprocessors())) * threads // threads of a full grid
	r := rand.New(rand.NewPCG(3, 5))

	type layout struct {
		name      string
		m, n      int
		transpose bool // src is a column-major view
	}
	layouts := []layout{
		{"vector", 3*4*step/8000 + 1, 8000, false},
		{"long-rows", 3, step + 4001, false},
		{"strided", 3*step/301 + 1, 301, true},
	}
	ops := []struct {
		op    device.UnaryOp
		alpha float64
	}{{device.AddScalar, 0}, {device.Relu, 0}, {device.Sigmoid, 0}}

	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for _, l := range layouts {
			for _, o := range ops {
				t.Run(fmt.Sprintf("%v/%s/%v", dt, l.name, o.op), func(t *testing.T) {
					m, n := l.m, l.n
					newBuf := func(k int, fill bool) device.Buffer {
						buf, err := b.Alloc(dt, k)
						require.NoError(t, err)
						if !fill {
							return buf
						}
						if dt == device.Float32 {
							h := make([]float32, k)
							for i := range h {
								h[i] = float32(r.Float64()*6 - 3)
							}
							require.NoError(t, b.Upload(buf, h))
						} else {
							h := make([]float64, k)
							for i := range h {
								h[i] = r.Float64()*6 - 3
							}
							require.NoError(t, b.Upload(buf, h))
						}
						return buf
					}
					sl := device.Contiguous(m, n)
					if l.transpose {
						sl = device.Layout{Shape: []int{m, n}, Strides: []int{1, m}}
					}
					src := device.View{Buf: newBuf(m*n, true), Layout: sl}
					bias := device.View{Buf: newBuf(n, true), Layout: device.Contiguous(n)}
					fused := device.View{Buf: newBuf(m*n, false), Layout: device.Contiguous(m, n)}
					unfused := device.View{Buf: newBuf(m*n, false), Layout: device.Contiguous(m, n)}

					require.NoError(t, b.BiasActivation(o.op, fused, src, bias, o.alpha, 0))
					rows := device.View{Buf: bias.Buf, Layout: device.Layout{Shape: []int{m, n}, Strides: []int{0, 1}}}
					require.NoError(t, b.Binary(device.Add, unfused, src, rows))
					if o.op != device.AddScalar || o.alpha != 0 { // alpha 0: the bias alone
						require.NoError(t, b.Unary(o.op, unfused, unfused, o.alpha, 0))
					}
					got, want := make([]float64, m*n), make([]float64, m*n)
					if dt == device.Float32 {
						g, w := make([]float32, m*n), make([]float32, m*n)
						require.NoError(t, b.Download(g, fused.Buf))
						require.NoError(t, b.Download(w, unfused.Buf))
						for i := range g {
							got[i], want[i] = float64(g[i]), float64(w[i])
						}
					} else {
						require.NoError(t, b.Download(got, fused.Buf))
						require.NoError(t, b.Download(want, unfused.Buf))
					}
					for i := range want {
						require.Equal(t, math.Float64bits(want[i]), math.Float64bits(got[i]),
							"element [%d, %d]: want %v, got %v", i/n, i%n, want[i], got[i])
					}
				})
			}
		}
	}
}
