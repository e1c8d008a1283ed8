package cuda

// Emulation of kernels/loss.cu in Go, run without a GPU: the kernels' row
// mapping (groups of lanes per row handed out per warp, or a block per
// row), the per-lane online logsumexp with its shuffle and shared-memory
// combination order, and the backward formula, on the ceArgs the host
// packs, compared with the CPU backend.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cpu"
)

// emuLS mirrors struct LS and ls_fold / ls_combine in float64.
type emuLS struct{ m, s float64 }

func (a *emuLS) fold(x float64) {
	switch {
	case x > a.m:
		a.s = a.s*math.Exp(a.m-x) + 1
		a.m = x
	case x != x:
		a.m = x
	case !math.IsInf(x, -1):
		a.s += math.Exp(x - a.m)
	}
}

func emuCombine(a, b emuLS) emuLS {
	o := emuLS{m: b.m}
	if a.m != a.m || a.m > b.m {
		o.m = a.m
	}
	if !math.IsInf(o.m, 0) && o.m == o.m {
		o.s = a.s*math.Exp(a.m-o.m) + b.s*math.Exp(b.m-o.m)
	}
	return o
}

// emuLanes mirrors ce_lanes for thread t of block blk.
func emuLanes(a *ceArgs, blocks uint32, blk, t int) (g, lane, sub int, first, step int64) {
	if a.Group == 0 {
		return threads, t, 0, int64(blk), int64(blocks)
	}
	rpw := int64(32 / a.Group)
	tid := int64(blk*threads + t)
	nthreads := int64(blocks) * threads
	return int(a.Group), t & int(a.Group-1), (t & 31) / int(a.Group), (tid >> 5) * rpw, (nthreads >> 5) * rpw
}

// emuCEForward runs ce_forward for float64 operands, with x's buffer
// assumed 256-byte aligned (as cuMemAlloc returns it) for the vector path.
// It returns how often each element of x was folded and how often each
// row was written, and the bad labels reported.
func emuCEForward(loss, lse, x []float64, labels []int64, a *ceArgs, blocks uint32) (folds, writes []int, bad []int64) {
	const n = 2 // Vec<double, 2>
	folds, writes = make([]int, len(x)), make([]int, a.Rows)
	block := a.Group == 0
	for blk := range int(blocks) {
		// Every thread of a block runs the same rows in block mode, and
		// every lane of a warp the same bases otherwise: emulate a warp
		// (or a block) at a time, lane states side by side.
		for w0 := 0; w0 < threads; w0 += 32 {
			lanes := 32
			if block {
				if w0 > 0 {
					break
				}
				lanes = threads
			}
			_, _, _, first, step := emuLanes(a, blocks, blk, w0)
			for base := first; base < a.Rows; base += step {
				st := make([]emuLS, lanes)
				for t := range lanes {
					g, lane, sub, _, _ := emuLanes(a, blocks, blk, w0+t)
					st[t] = emuLS{m: math.Inf(-1)}
					row := base + int64(sub)
					if row >= a.Rows {
						continue
					}
					p := row * a.Xs0
					if a.Xs1 == 1 && a.Cols%n == 0 && p%n == 0 {
						for v := int64(lane); v < a.Cols/n; v += int64(g) {
							for k := range int64(n) {
								st[t].fold(x[p+v*n+k])
								folds[p+v*n+k]++
							}
						}
					} else {
						for j := int64(lane); j < a.Cols; j += int64(g) {
							st[t].fold(x[p+j*a.Xs1])
							folds[p+j*a.Xs1]++
						}
					}
				}
				// Shuffles within each warp: d from G/2 (16 for a block).
				d0 := int(a.Group) / 2
				if block {
					d0 = 16
				}
				for d := d0; d > 0; d >>= 1 {
					next := make([]emuLS, lanes)
					for t := range lanes {
						next[t] = emuCombine(st[t], st[t^d])
					}
					st = next
				}
				if block {
					s := st[0]
					for w := 32; w < lanes; w += 32 {
						s = emuCombine(s, st[w])
					}
					for t := range st {
						st[t] = s
					}
				}
				for t := range lanes {
					_, lane, sub, _, _ := emuLanes(a, blocks, blk, w0+t)
					row := base + int64(sub)
					if row >= a.Rows || lane != 0 {
						continue
					}
					writes[row]++
					k := labels[row*a.Ls]
					m := st[t].m
					lg := 0.0
					if !math.IsInf(m, 0) && m == m {
						lg = math.Log(st[t].s)
					}
					out := math.NaN()
					if k < 0 || k >= a.Cols {
						bad = append(bad, k)
					} else {
						out = (m - x[row*a.Xs0+k*a.Xs1]) + lg
					}
					loss[row*a.As] = out
					lse[row*a.Bs] = m + lg
				}
			}
		}
	}
	return folds, writes, bad
}

// emuCEBackward runs ce_backward for float64 operands and returns how
// often each element of dx was written.
func emuCEBackward(dx, x, lse []float64, labels []int64, g []float64, a *ceArgs, blocks uint32) []int {
	writes := make([]int, len(dx))
	for blk := range int(blocks) {
		for t := range threads {
			gs, lane, sub, first, step := emuLanes(a, blocks, blk, t)
			for base := first; base < a.Rows; base += step {
				row := base + int64(sub)
				if row >= a.Rows {
					continue
				}
				k := labels[row*a.Ls]
				lv, gv := lse[row*a.As], g[row*a.Bs]
				for j := int64(lane); j < a.Cols; j += int64(gs) {
					pr := math.Exp(x[row*a.Xs0+j*a.Xs1] - lv)
					if j == k {
						pr--
					}
					dx[row*a.Ds0+j*a.Ds1] = gv * pr
					writes[row*a.Ds0+j*a.Ds1]++
				}
			}
		}
	}
	return writes
}

func TestCEGroup(t *testing.T) {
	for _, c := range []struct {
		cols int64
		want int32
	}{{1, 1}, {2, 2}, {3, 4}, {7, 8}, {10, 16}, {16, 16}, {17, 32}, {32, 32}, {33, 32}, {1000, 32}, {1024, 32}, {1025, 0}, {4097, 0}} {
		require.Equal(t, c.want, ceGroup(c.cols), "cols %d", c.cols)
	}
}

func TestCrossEntropyEmulationMatchesCPU(t *testing.T) {
	ref, err := device.Get(device.CPU())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(3, 4))
	type shape struct{ m, c int }
	shapes := []shape{{0, 10}, {1, 1}, {5, 1}, {7, 10}, {100, 7}, {33, 16}, {3, 32}, {9, 33}, {64, 1000}, {5, 1024}, {3, 1025}, {2, 4097}}
	for _, s := range shapes {
		for _, transposed := range []bool{false, true} {
			for _, sms := range []int{1, 132} {
				t.Run(fmt.Sprintf("%dx%d/T=%v/sms=%d", s.m, s.c, transposed, sms), func(t *testing.T) {
					xl := device.Contiguous(s.m, s.c)
					if transposed {
						xl = device.Layout{Shape: []int{s.m, s.c}, Strides: []int{1, s.m}}
					}
					x := make([]float64, s.m*s.c)
					for i := range x {
						x[i] = 3 * r.NormFloat64()
					}
					labels := make([]int64, s.m)
					g := make([]float64, s.m)
					for i := range labels {
						labels[i] = int64(r.IntN(s.c))
						g[i] = r.Float64() + 0.5
					}
					vec := device.Contiguous(s.m)
					xb, _ := cpu.Wrap(x)
					lb, _ := cpu.Wrap(labels)
					gb, _ := cpu.Wrap(g)
					lossB, _ := ref.Alloc(device.Float64, s.m)
					lseB, _ := ref.Alloc(device.Float64, s.m)
					dxB, _ := ref.Alloc(device.Float64, s.m*s.c)
					xv, lv := device.View{Buf: xb, Layout: xl}, device.View{Buf: lb, Layout: vec}
					require.NoError(t, ref.CrossEntropy(device.View{Buf: lossB, Layout: vec}, device.View{Buf: lseB, Layout: vec}, xv, lv))
					require.NoError(t, ref.CrossEntropyBackward(device.View{Buf: dxB, Layout: xl}, xv, device.View{Buf: lseB, Layout: vec}, lv, device.View{Buf: gb, Layout: vec}))

					p := planCrossEntropy(xl, device.Layout{}, vec, vec, vec, sms)
					require.Equal(t, ceGroup(int64(s.c)), p.args.Group)
					require.GreaterOrEqual(t, p.blocks, uint32(1))
					loss, lse := make([]float64, s.m), make([]float64, s.m)
					folds, writes, bad := emuCEForward(loss, lse, x, labels, &p.args, p.blocks)
					require.Empty(t, bad)
					for i, f := range folds {
						require.Equal(t, 1, f, "element %d folded %d times", i, f)
					}
					for i, w := range writes {
						require.Equal(t, 1, w, "row %d written %d times", i, w)
					}
					wantLoss, wantLSE := cpu.Data(lossB).([]float64), cpu.Data(lseB).([]float64)
					for i := range loss {
						require.InDelta(t, wantLSE[i], lse[i], 1e-13*max(1, math.Abs(wantLSE[i])), "lse %d", i)
						require.InDelta(t, wantLoss[i], loss[i], 1e-13*max(1, math.Abs(wantLSE[i])), "loss %d", i)
					}

					pb := planCrossEntropy(xl, xl, vec, vec, vec, sms)
					dx := make([]float64, s.m*s.c)
					dxWrites := emuCEBackward(dx, x, wantLSE, labels, g, &pb.args, pb.blocks)
					for i, w := range dxWrites {
						require.Equal(t, 1, w, "dx element %d written %d times", i, w)
					}
					// Same formula and order as the CPU's float64 path.
					require.Equal(t, cpu.Data(dxB), dx)
				})
			}
		}
	}
}

// TestCrossEntropyEmulationNonFinite checks the fold's handling of NaN
// and infinities against the CPU, for every group size and a block.
func TestCrossEntropyEmulationNonFinite(t *testing.T) {
	ref, err := device.Get(device.CPU())
	require.NoError(t, err)
	inf, nan := math.Inf(1), math.NaN()
	rows := [][]float64{
		{1, 2, 3, 4},
		{1, nan, 3, 4},
		{-inf, -inf, -inf, -inf},
		{-inf, 0, 1, -inf},
		{1, inf, 2, 3},
		{inf, nan, 1, 2},
		{inf, 1, inf, 2},
		{nan, inf, -inf, 0},
	}
	for _, cols := range []int{4, 20, 100, 2000} {
		t.Run(fmt.Sprint(cols), func(t *testing.T) {
			m := len(rows)
			x := make([]float64, m*cols)
			for i, row := range rows {
				for j := range cols {
					x[i*cols+j] = -5 + float64(j%7) // finite filler
				}
				for j, v := range row {
					x[i*cols+(j*cols)/len(row)] = v // spread over the lanes
				}
			}
			labels := make([]int64, m)
			for i := range labels {
				labels[i] = int64((i * 5) % cols)
			}
			vec, xl := device.Contiguous(m), device.Contiguous(m, cols)
			xb, _ := cpu.Wrap(x)
			lb, _ := cpu.Wrap(labels)
			lossB, _ := ref.Alloc(device.Float64, m)
			lseB, _ := ref.Alloc(device.Float64, m)
			require.NoError(t, ref.CrossEntropy(device.View{Buf: lossB, Layout: vec}, device.View{Buf: lseB, Layout: vec},
				device.View{Buf: xb, Layout: xl}, device.View{Buf: lb, Layout: vec}))
			p := planCrossEntropy(xl, device.Layout{}, vec, vec, vec, 1)
			loss, lse := make([]float64, m), make([]float64, m)
			emuCEForward(loss, lse, x, labels, &p.args, p.blocks)
			for i := range rows {
				for _, c := range []struct {
					what      string
					want, got float64
				}{{"lse", cpu.Data(lseB).([]float64)[i], lse[i]}, {"loss", cpu.Data(lossB).([]float64)[i], loss[i]}} {
					switch {
					case math.IsNaN(c.want):
						require.True(t, math.IsNaN(c.got), "row %d: %s %v, want NaN", i, c.what, c.got)
					case math.IsInf(c.want, 0):
						require.Equal(t, c.want, c.got, "row %d: %s", i, c.what)
					default:
						require.InDelta(t, c.want, c.got, 1e-12*max(1, math.Abs(c.want)), "row %d: %s", i, c.what)
					}
				}
			}
		})
	}
}

// TestCrossEntropyEmulationBadLabel checks that a label out of range is
// reported and gives a NaN loss, as the kernel does.
func TestCrossEntropyEmulationBadLabel(t *testing.T) {
	vec, xl := device.Contiguous(3), device.Contiguous(3, 5)
	p := planCrossEntropy(xl, device.Layout{}, vec, vec, vec, 4)
	x := []float64{1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0}
	loss, lse := make([]float64, 3), make([]float64, 3)
	_, _, bad := emuCEForward(loss, lse, x, []int64{0, 5, -2}, &p.args, p.blocks)
	require.ElementsMatch(t, []int64{5, -2}, bad)
	require.False(t, math.IsNaN(loss[0]))
	require.True(t, math.IsNaN(loss[1]) && math.IsNaN(loss[2]))
	require.InDelta(t, math.Log(5), lse[2], 1e-15)
}
