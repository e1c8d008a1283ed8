package cuda

// Emulation of kernels/batchnorm.cu in Go, run without a GPU: the kernels'
// control flow (work items, grid-stride loops, the row walk, the column
// layout, warp-shuffle trees and block reductions, the two-stage
// combination of split channels) and index arithmetic (fast_div) on the
// bnArgs the host plans, compared with the CPU backend: bit for bit for
// the elementwise passes, within rounding for the reductions, whose
// summation order differs.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/device/cpu"
)

func TestFastDivider(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	divisors := []uint32{1, 2, 3, 5, 7, 31, 32, 33, 784, 1000, 65535, 65536, 1<<20 + 1, 1 << 30, 1<<31 - 1}
	for range 50 {
		divisors = append(divisors, 1+r.Uint32N(1<<31-1))
	}
	for _, d := range divisors {
		mul, shift := fastDivider(d)
		us := []uint32{0, 1, d - 1, d, d + 1, 2*d - 1, 1<<31 - 1, 1<<31 - 2}
		for range 200 {
			us = append(us, r.Uint32N(1<<31))
		}
		for _, u := range us {
			if u >= 1<<31 {
				continue
			}
			hi := uint32(uint64(u) * uint64(mul) >> 32) // __umulhi
			require.Equal(t, u/d, (hi+u)>>shift, "%d / %d (mul %d, shift %d)", u, d, mul, shift)
		}
	}
}

// emuIndex mirrors bn_index.
func emuIndex(a *bnArgs, i int64) (n, c, l int64) {
	if a.Total <= math.MaxInt32 {
		div := func(u, mul, shift uint32) uint32 { return (uint32(uint64(u)*uint64(mul)>>32) + u) >> shift }
		u := uint32(i)
		q := div(u, a.DivL, a.ShL)
		nn := div(q, a.DivC, a.ShC)
		return int64(nn), int64(q - nn*uint32(a.C)), int64(u - q*uint32(a.L))
	}
	q := i / a.L
	return q / a.C, q % a.C, i % a.L
}

func TestBNIndexLarge(t *testing.T) {
	// Past 2^31 elements the kernels divide in 64 bits.
	p := planBatchNorm([]int{3, 1 << 20, 1 << 10}, nil, nil, false, device.Layout{}, 132)
	require.Zero(t, p.args.DivL)
	for _, i := range []int64{0, 1<<31 + 5, 3<<30 - 1, p.args.Total - 1} {
		n, c, l := emuIndex(&p.args, i)
		require.Equal(t, i, (n*p.args.C+c)*p.args.L+l)
	}
}

// emuPtr is a device pointer of the emulation: a buffer and the element
// the pointer addresses; a nil buffer is the null pointer.
type emuPtr[T float32 | float64] struct {
	d   []T
	off int64
}

func (p emuPtr[T]) at(i int64) T     { return p.d[p.off+i] }
func (p emuPtr[T]) set(i int64, v T) { p.d[p.off+i] = v }

type emuAcc struct{ shift, s1, s2, n float64 }

func (a *emuAcc) add(v float64) {
	if a.n == 0 {
		a.shift = v
	}
	d := v - a.shift
	a.s1 += d
	a.s2 += d * d
	a.n++
}

func (a emuAcc) state() bnState {
	if a.n == 0 {
		return bnState{}
	}
	return bnState{N: a.n, Mean: a.shift + a.s1/a.n, M2: math.Max(0, a.s2-a.s1*a.s1/a.n)}
}

func emuMerge(a, b bnState) bnState {
	if b.N == 0 {
		return a
	}
	if a.N == 0 {
		return b
	}
	n := a.N + b.N
	d, fb := b.Mean-a.Mean, b.N/n
	return bnState{N: n, Mean: a.Mean + d*fb, M2: a.M2 + b.M2 + d*d*(a.N*fb)}
}

// emuWarp is a warp-shuffle tree (st_warp, sums_warp): lane i takes lane
// i+d's value, or its own past lane 31; lane 0 ends with the result.
func emuWarp[S any](s [32]S, merge func(a, b S) S) S {
	for d := 16; d > 0; d >>= 1 {
		var next [32]S
		for lane := range 32 {
			other := s[lane]
			if lane+d < 32 {
				other = s[lane+d]
			}
			next[lane] = merge(s[lane], other)
		}
		s = next
	}
	return s[0]
}

func emuAddSums(a, b bnSums) bnSums { return bnSums{G: a.G + b.G, GX: a.GX + b.GX} }

// emuRowWalk mirrors RowWalk.
type emuRowWalk struct {
	ll, dl           int64
	off, step, wrap  [2]int64
	positionsVisited int
}

func emuRowWalkAt(a *bnArgs, nops int, c, j, blockDim int64) emuRowWalk {
	var w emuRowWalk
	nn, dn := j/a.L, blockDim/a.L
	w.ll, w.dl = j-nn*a.L, blockDim-dn*a.L
	for k := range 2 {
		o := 0
		if k < nops {
			o = k
		}
		w.off[k] = c*a.S[o][1] + nn*a.S[o][0] + w.ll*a.S[o][2]
		w.step[k] = dn*a.S[o][0] + w.dl*a.S[o][2]
		w.wrap[k] = a.S[o][0] - a.L*a.S[o][2]
	}
	return w
}

func (w *emuRowWalk) next(l int64) {
	w.off[0] += w.step[0]
	w.off[1] += w.step[1]
	w.ll += w.dl
	if w.ll >= l {
		w.ll -= l
		w.off[0] += w.wrap[0]
		w.off[1] += w.wrap[1]
	}
}

// emuReduce mirrors the work-item loop shared by bn_stats and
// bn_backward_reduce: each thread folds its values (fold gets the
// operands' offsets) into an accumulator, which state turns into a
// mergeable state; out receives each work item's result, combined in the
// kernels' order.
func emuReduce[A, S any](a *bnArgs, grid int64, nops int, fold func(acc *A, off [2]int64), state func(A) S,
	merge func(x, y S) S, out func(c, part int64, s S)) {
	const nw = threads / 32
	groups := a.C
	if a.Cols == 1 {
		groups = (a.C + 31) / 32
	}
	items := groups * a.Split
	for blk := range grid {
		for item := blk; item < items; item += grid {
			grp, s := item/a.Split, item%a.Split
			if a.Cols == 1 {
				var sh [nw][32]S
				r0, r1 := s*a.Chunk, min(a.N, s*a.Chunk+a.Chunk)
				for warp := range int64(nw) {
					for lane := range int64(32) {
						var acc A
						if c := grp*32 + lane; c < a.C {
							var off [2]int64
							for k := range nops {
								off[k] = c*a.S[k][1] + (r0+warp)*a.S[k][0]
							}
							for r := r0 + warp; r < r1; r += nw {
								fold(&acc, off)
								for k := range nops {
									off[k] += nw * a.S[k][0]
								}
							}
						}
						sh[warp][lane] = state(acc)
					}
				}
				for lane := range int64(32) {
					c := grp*32 + lane
					if c >= a.C {
						continue
					}
					st := sh[0][lane]
					for k := 1; k < nw; k++ {
						st = merge(st, sh[k][lane])
					}
					out(c, s, st)
				}
				continue
			}
			c := grp
			j0, j1 := s*a.Chunk, min(a.M, s*a.Chunk+a.Chunk)
			var lanes [nw][32]S
			for tid := range int64(threads) {
				var acc A
				if j := j0 + tid; j < j1 {
					w := emuRowWalkAt(a, nops, c, j, threads)
					for ; j < j1; j += threads {
						fold(&acc, w.off)
						w.next(a.L)
					}
				}
				lanes[tid/32][tid%32] = state(acc)
			}
			var w0 [32]S // lanes past the warps hold the zero state
			for warp := range nw {
				w0[warp] = emuWarp(lanes[warp], merge)
			}
			out(c, s, emuWarp(w0, merge))
		}
	}
}

// emuParts mirrors the combining kernels: per channel, lane k merges
// parts k, k+32, ..., then the lanes merge as a tree.
func emuParts[S any](a *bnArgs, part []S, merge func(x, y S) S, out func(c int64, s S)) {
	for c := range a.C {
		var lanes [32]S
		for lane := range int64(32) {
			for k := lane; k < a.Split; k += 32 {
				lanes[lane] = merge(lanes[lane], part[c*a.Split+k])
			}
		}
		out(c, emuWarp(lanes, merge))
	}
}

// emuStats mirrors bn_stats and bn_stats_part.
func emuStats[T float32 | float64](x, mean, variance emuPtr[T], p *bnPlan) {
	a := &p.args
	write := func(c int64, st bnState) {
		mean.set(c*a.VS[0], T(st.Mean))
		variance.set(c*a.VS[1], T(st.M2/st.N))
	}
	part := make([]bnState, a.C*a.Split)
	emuReduce(a, int64(p.redBlocks), 1, func(acc *emuAcc, off [2]int64) { acc.add(float64(x.at(off[0]))) }, emuAcc.state, emuMerge,
		func(c, s int64, st bnState) {
			if a.Split == 1 {
				write(c, st)
			} else {
				part[c*a.Split+s] = st
			}
		})
	if a.Split > 1 {
		emuParts(a, part, emuMerge, write)
	}
}

// emuForward mirrors bn_forward; pointers: y, xhat, x, mean, invstd, w, b.
func emuForward[T float32 | float64](y, xhat, x, mean, invstd, w, b emuPtr[T], a *bnArgs) {
	for i := range a.Total {
		n, c, l := emuIndex(a, i)
		off := func(k int) int64 { return n*a.S[k][0] + c*a.S[k][1] + l*a.S[k][2] }
		xh := (x.at(off(2)) - mean.at(c*a.VS[0])) * invstd.at(c*a.VS[1])
		if xhat.d != nil {
			xhat.set(off(1), xh)
		}
		wc, bc := T(1), T(0)
		if w.d != nil {
			wc = w.at(c * a.VS[2])
		}
		if b.d != nil {
			bc = b.at(c * a.VS[3])
		}
		y.set(off(0), T(xh*wc)+bc)
	}
}

// emuFinish mirrors bn_finish; vs = invstd, weight, dweight, dbias.
func emuFinish[T float32 | float64](s bnSums, c int64, coef, dw, db, invstd, w emuPtr[T], a *bnArgs) {
	if dw.d != nil {
		dw.set(c*a.VS[2], T(s.GX))
	}
	if db.d != nil {
		db.set(c*a.VS[3], T(s.G))
	}
	if coef.d != nil {
		k := float64(invstd.at(c * a.VS[0]))
		if w.d != nil {
			k *= float64(w.at(c * a.VS[1]))
		}
		coef.set(3*c, T(k))
		coef.set(3*c+1, T(-k*s.GX*a.InvM))
		coef.set(3*c+2, T(-k*s.G*a.InvM))
	}
}

// emuBackward mirrors BatchNormBackward's launches (reduce, part, dx).
func emuBackward[T float32 | float64](dx, dw, db, g, xhat, invstd, w emuPtr[T], shape []int, planes [3]device.Layout,
	vecs [4]device.Layout, training bool, sms int) {
	var coef emuPtr[T]
	if dw.d != nil || db.d != nil || (training && dx.d != nil) {
		p := planBatchNorm(shape, planes[1:], vecs[:], true, planes[1], sms)
		a := &p.args
		if training && dx.d != nil {
			coef = emuPtr[T]{d: make([]T, 3*a.C)}
		}
		part := make([]bnSums, a.C*a.Split)
		emuReduce(a, int64(p.redBlocks), 2, func(acc *bnSums, off [2]int64) {
			v := float64(g.at(off[0]))
			acc.G += v
			acc.GX += v * float64(xhat.at(off[1]))
		}, func(s bnSums) bnSums { return s }, emuAddSums, func(c, s int64, sum bnSums) {
			if a.Split == 1 {
				emuFinish(sum, c, coef, dw, db, invstd, w, a)
			} else {
				part[c*a.Split+s] = sum
			}
		})
		if a.Split > 1 {
			emuParts(a, part, emuAddSums, func(c int64, sum bnSums) { emuFinish(sum, c, coef, dw, db, invstd, w, a) })
		}
	}
	if dx.d == nil {
		return
	}
	p := planBatchNorm(shape, planes[:], vecs[:2], false, planes[1], sms)
	a := &p.args
	for i := range a.Total {
		n, c, l := emuIndex(a, i)
		off := func(k int) int64 { return n*a.S[k][0] + c*a.S[k][1] + l*a.S[k][2] }
		gv := g.at(off(1))
		if training {
			dx.set(off(0), T(coef.at(3*c)*gv)+T(coef.at(3*c+1)*xhat.at(off(2)))+coef.at(3*c+2))
			continue
		}
		k := float64(invstd.at(c * a.VS[0]))
		if w.d != nil {
			k *= float64(w.at(c * a.VS[1]))
		}
		dx.set(off(0), T(k)*gv)
	}
}

// bnTestLayout returns an [N, C, L] layout: "contiguous", "padded" (an
// offset and gaps) or "transposed" (batch items adjacent: strides
// [1, N·L, N], a transposed BatchNorm1d input when L == 1).
func bnTestLayout(shape []int, kind string) device.Layout {
	n, c, l := shape[0], shape[1], shape[2]
	switch kind {
	case "padded":
		return device.Layout{Shape: shape, Strides: []int{c*(l+2) + 3, l + 2, 1}, Offset: 5}
	case "transposed":
		return device.Layout{Shape: shape, Strides: []int{1, n * l, n}}
	}
	return device.Contiguous(shape...)
}

// bnTestBuf returns a buffer for layout l filled with random values.
func bnTestBuf[T float32 | float64](r *rand.Rand, l device.Layout, center, spread float64) []T {
	d := make([]T, l.Offset+l.Span()+2)
	for i := range d {
		d[i] = T(center + spread*(2*r.Float64()-1))
	}
	return d
}

func TestBatchNormKernelEmulationMatchesCPU(t *testing.T) {
	t.Run("float32", func(t *testing.T) { bnEmulationCase[float32](t, device.Float32) })
	t.Run("float64", func(t *testing.T) { bnEmulationCase[float64](t, device.Float64) })
}

func bnEmulationCase[T float32 | float64](t *testing.T, dt device.DType) {
	ref, err := device.Get(device.CPU())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(3, uint64(dt)))
	wrap := func(d []T, l device.Layout) device.View {
		b, err := cpu.Wrap(d)
		require.NoError(t, err)
		return device.View{Buf: b, Layout: l}
	}
	// The reductions differ from the CPU's in summation order only.
	tol := 1e-12
	if dt == device.Float32 {
		tol = 3e-7
	}
	near := func(label string, want, got []T) {
		for i := range want {
			if d := math.Abs(float64(want[i]) - float64(got[i])); !(d <= tol*(math.Abs(float64(want[i]))+1e-3)) {
				require.Failf(t, "mismatch", "%s: element %d: cpu %v, emulated GPU %v", label, i, want[i], got[i])
			}
		}
	}
	shapes := [][]int{{2, 3, 5}, {64, 17, 1}, {64, 40, 1}, {300, 33, 1}, {3, 2, 5000}, {5, 7, 33}, {4, 1, 700}}
	for _, shape := range shapes {
		for _, kind := range []string{"contiguous", "padded", "transposed"} {
			for _, sms := range []int{1, 132} {
				label := fmt.Sprintf("%v/%s/sms=%d", shape, kind, sms)
				n, c := shape[0], shape[1]
				xl := bnTestLayout(shape, kind)
				vl := device.Contiguous(c)
				sl := device.Layout{Shape: []int{c}, Strides: []int{2}, Offset: 1} // a strided [C] vector
				x := bnTestBuf[T](r, xl, 50, 2)

				// Statistics.
				wm, wv := make([]T, c), make([]T, 2*c+1)
				require.NoError(t, ref.BatchNormStats(wrap(wm, vl), wrap(wv, sl), wrap(x, xl)))
				gm, gv := make([]T, c), make([]T, 2*c+1)
				p := planBatchNorm(shape, []device.Layout{xl}, []device.Layout{vl, sl}, true, xl, sms)
				if kind == "contiguous" && shape[2] == 1 && c >= bnColsMinC {
					require.Equal(t, int32(1), p.args.Cols, "%s: BatchNorm1d on [N, C] takes the column layout", label)
				}
				if kind == "transposed" {
					require.Zero(t, p.args.Cols, "%s: adjacent batch items take the row layout", label)
				}
				emuStats(emuPtr[T]{d: x, off: int64(xl.Offset)}, emuPtr[T]{d: gm}, emuPtr[T]{d: gv, off: 1}, &p)
				near(label+": mean", wm, gm)
				near(label+": variance", wv, gv)

				// Forward, with every optional operand and without.
				mean, istd := bnTestBuf[T](r, vl, 50, 1), bnTestBuf[T](r, sl, 1, 0.5)
				w, b := bnTestBuf[T](r, vl, 0, 2), bnTestBuf[T](r, vl, 0, 2)
				yl := device.Contiguous(shape...)
				for _, affine := range []bool{true, false} {
					wy, wh := make([]T, yl.Numel()), make([]T, xl.Offset+xl.Span())
					wvw, wvb := wrap(w, vl), wrap(b, vl)
					ew, eb := emuPtr[T]{d: w}, emuPtr[T]{d: b}
					if !affine {
						wvw, wvb, ew, eb = device.View{}, device.View{}, emuPtr[T]{}, emuPtr[T]{}
					}
					require.NoError(t, ref.BatchNormForward(wrap(wy, yl), wrap(wh, xl), wrap(x, xl), wrap(mean, vl), wrap(istd, sl), wvw, wvb))
					gy, gh := make([]T, len(wy)), make([]T, len(wh))
					pf := planBatchNorm(shape, []device.Layout{yl, xl, xl}, []device.Layout{vl, sl, vl, vl}, false, xl, sms)
					emuForward(emuPtr[T]{d: gy}, emuPtr[T]{d: gh, off: int64(xl.Offset)}, emuPtr[T]{d: x, off: int64(xl.Offset)},
						emuPtr[T]{d: mean}, emuPtr[T]{d: istd, off: 1}, ew, eb, &pf.args)
					require.Equal(t, wy, gy, "%s: y (affine %v)", label, affine)
					require.Equal(t, wh, gh, "%s: xhat (affine %v)", label, affine)
				}

				// Backward, training and evaluation.
				g := bnTestBuf[T](r, xl, 0.2, 1)
				xh := bnTestBuf[T](r, yl, 0, 1.5)
				for _, training := range []bool{true, false} {
					wdx, wdw, wdb := make([]T, n*c*shape[2]), make([]T, 2*c+1), make([]T, c)
					require.NoError(t, ref.BatchNormBackward(wrap(wdx, yl), wrap(wdw, sl), wrap(wdb, vl), wrap(g, xl), wrap(xh, yl),
						wrap(istd, sl), wrap(w, vl), training))
					gdx, gdw, gdb := make([]T, len(wdx)), make([]T, len(wdw)), make([]T, len(wdb))
					emuBackward(emuPtr[T]{d: gdx}, emuPtr[T]{d: gdw, off: 1}, emuPtr[T]{d: gdb}, emuPtr[T]{d: g, off: int64(xl.Offset)},
						emuPtr[T]{d: xh}, emuPtr[T]{d: istd, off: 1}, emuPtr[T]{d: w}, shape,
						[3]device.Layout{yl, xl, yl}, [4]device.Layout{sl, vl, sl, vl}, training, sms)
					near(fmt.Sprintf("%s: dweight (training %v)", label, training), wdw, gdw)
					near(fmt.Sprintf("%s: dbias (training %v)", label, training), wdb, gdb)
					if training {
						// dx is a difference of near-equal terms: compare
						// against the scale of the terms.
						for i := range wdx {
							if d := math.Abs(float64(wdx[i]) - float64(gdx[i])); !(d <= 20*tol*(math.Abs(float64(wdx[i]))+4)) {
								require.Failf(t, "mismatch", "%s: dx[%d]: cpu %v, emulated GPU %v", label, i, wdx[i], gdx[i])
							}
						}
					} else {
						require.Equal(t, wdx, gdx, "%s: dx (evaluation)", label)
					}
				}
			}
		}
	}
}

func TestBatchNormPlan(t *testing.T) {
	for _, c := range []struct {
		shape      []int
		kind       string
		sms        int
		cols       bool
		wantSplits bool
	}{
		{[]int{64, 32, 784}, "contiguous", 132, false, true}, // BatchNorm2d: few long channels are split
		{[]int{64, 256, 1}, "contiguous", 132, true, false},  // BatchNorm1d: lanes on channels
		{[]int{65536, 64, 1}, "contiguous", 132, true, true}, // a long batch is split too
		{[]int{64, 256, 1}, "transposed", 132, false, false}, // batch items adjacent: rows
		{[]int{8, 8, 1}, "contiguous", 132, false, false},    // too few channels for the column layout
		{[]int{2, 512, 3}, "contiguous", 132, false, false},  // short channels, many of them: one part each
		{[]int{64, 32, 784}, "contiguous", 1, false, false},  // one SM: no need to split
	} {
		t.Run(fmt.Sprintf("%v/%s/%d", c.shape, c.kind, c.sms), func(t *testing.T) {
			l := bnTestLayout(c.shape, c.kind)
			p := planBatchNorm(c.shape, []device.Layout{l}, nil, true, l, c.sms)
			a := p.args
			require.Equal(t, c.cols, a.Cols == 1)
			require.Equal(t, c.wantSplits, a.Split > 1, "split %d", a.Split)
			span := a.M
			if a.Cols == 1 {
				span = a.N
			}
			// The parts cover the channel, none is empty.
			require.GreaterOrEqual(t, a.Split*a.Chunk, span)
			require.Less(t, (a.Split-1)*a.Chunk, span)
			require.GreaterOrEqual(t, p.redBlocks, uint32(1))
			require.LessOrEqual(t, p.redBlocks, uint32(8*c.sms))
			if a.Split > 1 {
				require.Positive(t, p.bnWorkspace(unsafe.Sizeof(bnState{})))
			} else {
				require.Zero(t, p.bnWorkspace(unsafe.Sizeof(bnState{})))
			}
		})
	}
}
