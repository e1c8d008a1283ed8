package cuda

// Launch planning: turning device.Layouts into kernel arguments and
// launch shapes. Pure Go (no build tag), tested without a GPU in
// plan_test.go by emulating the kernels' index arithmetic.

import (
	"fmt"

	"github.com/nabla-go/nabla/device"
)

// threads is the block size of every kernel.
const threads = 256

// mergeDims drops the size-1 dimensions of shape and merges adjacent
// dimensions wherever every layout allows it (stride[i] == stride[i+1] *
// shape[i+1] for all of them). It returns the merged shape and the
// strides of each layout, outermost first. Row-major order is preserved,
// so linear indices over the merged shape equal those over shape.
func mergeDims(shape []int, ls ...device.Layout) (dims []int, strides [][]int) {
	strides = make([][]int, len(ls))
	for i, d := range shape {
		if d == 1 {
			continue
		}
		if last := len(dims) - 1; last >= 0 {
			ok := true
			for k, l := range ls {
				if strides[k][last] != l.Strides[i]*d {
					ok = false
					break
				}
			}
			if ok {
				dims[last] *= d
				for k, l := range ls {
					strides[k][last] = l.Strides[i]
				}
				continue
			}
		}
		dims = append(dims, d)
		for k, l := range ls {
			strides[k] = append(strides[k], l.Strides[i])
		}
	}
	return dims, strides
}

// makeIter builds the iteration space of an elementwise kernel over shape
// for up to four operand layouts. Offsets are not part of it: the caller
// folds them into the operands' pointers.
func makeIter(shape []int, ls ...device.Layout) (iterArgs, error) {
	var it iterArgs
	it.N = int64(device.Numel(shape))
	dims, strides := mergeDims(shape, ls...)
	if len(dims) > maxRank {
		return it, fmt.Errorf("shape %v has %d non-mergeable dimensions; the CUDA kernels support %d", shape, len(dims), maxRank)
	}
	contiguous := len(dims) <= 1
	for k := range ls {
		if len(dims) == 1 && strides[k][0] != 1 {
			contiguous = false
		}
	}
	if contiguous {
		return it, nil // Rank 0: element i of every operand is at its pointer + i
	}
	it.Rank = int32(len(dims))
	for d := range dims {
		r := len(dims) - 1 - d // innermost first
		it.Shape[r] = int64(dims[d])
		for k := range ls {
			it.Stride[k][r] = int64(strides[k][d])
		}
	}
	return it, nil
}

// iterOffsets computes what the kernels' iter_offsets computes: the offsets
// of linear element i in the first k operands. For tests.
func iterOffsets(it *iterArgs, i int64, k int) []int64 {
	off := make([]int64, k)
	if it.Rank == 0 {
		for j := range off {
			off[j] = i
		}
		return off
	}
	u := i
	for d := 0; d < int(it.Rank); d++ {
		r := u
		if d < int(it.Rank)-1 {
			q := u / it.Shape[d]
			r = u - q*it.Shape[d]
			u = q
		}
		for j := range off {
			off[j] += r * it.Stride[j][d]
		}
	}
	return off
}

// gridFor returns the number of blocks for n work items of one thread
// each: enough to cover them, at most one full wave of sms*8 blocks (the
// kernels loop over the rest).
func gridFor(n int64, sms int) uint32 {
	b := (n + threads - 1) / threads
	limit := int64(max(sms, 1)) * 8
	b = min(max(b, 1), limit)
	return uint32(b)
}

// reducePlan is the launch of a Reduce: the row kernel, and when Split > 1
// the combining kernel.
type reducePlan struct {
	args   redArgs
	blocks uint32
	// partBlocks is the grid of <op>_part (one warp per row).
	partBlocks uint32
}

// planReduce lays out the reduction of the last n dimensions of src into
// dst (shape src.Shape[:rank-n]).
func planReduce(dst, src device.Layout, n, sms int) (reducePlan, error) {
	var p reducePlan
	r := src.Rank() - n
	outerShape := src.Shape[:r]
	if len(dst.Shape) != r {
		return p, fmt.Errorf("destination shape %v is not the source shape %v without its last %d dimensions", dst.Shape, src.Shape, n)
	}
	for i := range outerShape {
		if dst.Shape[i] != outerShape[i] {
			return p, fmt.Errorf("destination shape %v is not the source shape %v without its last %d dimensions", dst.Shape, src.Shape, n)
		}
	}
	odims, ostr := mergeDims(outerShape,
		device.Layout{Shape: outerShape, Strides: src.Strides[:r]},
		device.Layout{Shape: outerShape, Strides: dst.Strides})
	innerShape := src.Shape[r:]
	idims, istr := mergeDims(innerShape, device.Layout{Shape: innerShape, Strides: src.Strides[r:]})
	if len(odims) > maxRank || len(idims) > maxRank {
		return p, fmt.Errorf("reduction of shape %v over %d dims needs more than %d merged dimensions", src.Shape, n, maxRank)
	}
	a := &p.args
	a.Rows = int64(device.Numel(outerShape))
	a.Cols = int64(device.Numel(innerShape))
	a.OutRank = int32(len(odims))
	for d := range odims {
		k := len(odims) - 1 - d
		a.OutShape[k] = int64(odims[d])
		a.SrcOuter[k] = int64(ostr[0][d])
		a.DstOuter[k] = int64(ostr[1][d])
	}
	a.InRank = int32(len(idims))
	for d := range idims {
		k := len(idims) - 1 - d
		a.InShape[k] = int64(idims[d])
		a.InStride[k] = int64(istr[0][d])
	}
	a.Split, a.Chunk = 1, max(a.Cols, 1)
	rows, cols := a.Rows, a.Cols
	sms64 := int64(max(sms, 1))
	switch {
	case cols <= 16:
		a.Group = 1
		p.blocks = gridFor(rows, sms)
	case cols <= 1024 && rows >= 4*sms64:
		a.Group = 32
		p.blocks = gridFor(rows*32, sms)
	default:
		a.Group = threads
		// Few long rows: cut each row into chunks of at least 4096
		// columns so that every multiprocessor gets work, then combine.
		if rows < 2*sms64 && cols >= 2*4096 {
			split := min((cols+4095)/4096, (4*sms64+rows-1)/rows)
			if split > 1 {
				chunk := (cols + split - 1) / split
				chunk = (chunk + 3) &^ 3 // keep chunk starts 16-byte aligned
				a.Chunk = chunk
				a.Split = (cols + chunk - 1) / chunk
			}
		}
		p.blocks = uint32(min(rows*a.Split, sms64*32))
	}
	if a.Split > 1 {
		p.partBlocks = gridFor(rows*32, sms)
	}
	return p, nil
}

// softmaxPlan is the launch of a Softmax.
type softmaxPlan struct {
	args   smArgs
	block  bool   // one block per row (else one warp per row)
	blocks uint32 // grid
	smem   uint32 // dynamic shared memory (the row cache)
}

// maxRowCache is the shared memory a softmax block may use to cache its
// row: 48 KiB (the limit without an opt-in) less the static part.
const maxRowCache = 48*1024 - 1024

// planSoftmax lays out a softmax along the last dimension of src.
func planSoftmax(dst, src device.Layout, sms int) (softmaxPlan, error) {
	var p softmaxPlan
	r := src.Rank()
	if r == 0 {
		src = device.Layout{Shape: []int{1}, Strides: []int{1}, Offset: src.Offset}
		dst = device.Layout{Shape: []int{1}, Strides: []int{1}, Offset: dst.Offset}
		r = 1
	}
	outer := src.Shape[:r-1]
	dims, str := mergeDims(outer,
		device.Layout{Shape: outer, Strides: src.Strides[:r-1]},
		device.Layout{Shape: outer, Strides: dst.Strides[:r-1]})
	if len(dims) > maxRank {
		return p, fmt.Errorf("softmax of shape %v needs more than %d merged dimensions", src.Shape, maxRank)
	}
	a := &p.args
	a.Rows = int64(device.Numel(outer))
	a.Cols = int64(src.Shape[r-1])
	a.Rank = int32(len(dims))
	for d := range dims {
		k := len(dims) - 1 - d
		a.Shape[k] = int64(dims[d])
		a.SOuter[k] = int64(str[0][d])
		a.DOuter[k] = int64(str[1][d])
	}
	a.Ss, a.Ds = int64(src.Strides[r-1]), int64(dst.Strides[r-1])
	if a.Cols <= 1024 {
		p.blocks = gridFor(a.Rows*32, sms)
		return p, nil
	}
	p.block = true
	p.blocks = uint32(min(a.Rows, int64(max(sms, 1))*32))
	return p, nil
}

// withCache enables the row cache when a row of esize-byte elements fits.
func (p *softmaxPlan) withCache(esize int) {
	if p.block && p.args.Cols*int64(esize) <= maxRowCache {
		p.args.Cache = 1
		p.smem = uint32(p.args.Cols * int64(esize))
	}
}

// gemmPlan is the launch of a MatMul.
type gemmPlan struct {
	kernel string
	args   gemmArgs
	grid   [3]uint32
}

// gemm tile sizes (kernels/matmul.cu).
const (
	bigTile   = 128 // matmul_<a><b>_f32 and tf32_<a><b>_f32
	smallTile = 64  // matmul_ss_f32, matmul_f64
	maxGridY  = 65535
	maxGridZ  = 65535
)

// planGemm picks the kernel and grid for dst = a·b over 3-D layouts of
// dtype dt. pa, pb, pc are the operands' device addresses (offsets
// included), used only for alignment; tf32 allows the tensor-core kernels.
func planGemm(dst, a, b device.Layout, dt device.DType, pa, pb, pc uintptr, tf32 bool, sms int) (gemmPlan, error) {
	var p gemmPlan
	batch, m, n, k := dst.Shape[0], dst.Shape[1], dst.Shape[2], a.Shape[2]
	if a.Shape[0] != batch || b.Shape[0] != batch || a.Shape[1] != m || b.Shape[1] != k || b.Shape[2] != n {
		return p, fmt.Errorf("matmul shapes %v · %v -> %v do not agree", a.Shape, b.Shape, dst.Shape)
	}
	g := &p.args
	g.M, g.N, g.K, g.Batch = int64(m), int64(n), int64(k), int64(batch)
	g.As0, g.As1, g.As2 = int64(a.Strides[0]), int64(a.Strides[1]), int64(a.Strides[2])
	g.Bs0, g.Bs1, g.Bs2 = int64(b.Strides[0]), int64(b.Strides[1]), int64(b.Strides[2])
	g.Cs0, g.Cs1, g.Cs2 = int64(dst.Strides[0]), int64(dst.Strides[1]), int64(dst.Strides[2])
	if batch == 1 {
		g.As0, g.Bs0, g.Cs0 = 0, 0, 0
	}
	aligned := func(ptr uintptr, s ...int64) int32 {
		if ptr%16 != 0 {
			return 0
		}
		for _, x := range s {
			if x%4 != 0 {
				return 0
			}
		}
		return 1
	}
	if dt == device.Float64 {
		p.kernel = "matmul_f64"
		p.grid = [3]uint32{uint32((n + smallTile - 1) / smallTile), uint32((m + smallTile - 1) / smallTile), uint32(min(batch, maxGridZ))}
		return p, p.checkGrid()
	}
	// Layout classes: A is "k" with unit stride along K (row-major) or
	// "m" with unit stride along M (transposed); B is "n" (row-major) or
	// "k" (transposed). Size-1 dimensions fit either.
	al, bl := "", ""
	switch {
	case k == 1 || g.As2 == 1:
		al = "k"
		g.VecA = aligned(pa, g.As1, g.As0)
	case m == 1 || g.As1 == 1:
		al = "m"
		g.VecA = aligned(pa, g.As2, g.As0)
	}
	switch {
	case n == 1 || g.Bs2 == 1:
		bl = "n"
		g.VecB = aligned(pb, g.Bs1, g.Bs0)
	case k == 1 || g.Bs1 == 1:
		bl = "k"
		g.VecB = aligned(pb, g.Bs2, g.Bs0)
	}
	if g.Cs2 == 1 {
		g.VecC = aligned(pc, g.Cs1, g.Cs0)
	}
	bigTiles := int64((m+bigTile-1)/bigTile) * int64((n+bigTile-1)/bigTile) * int64(batch)
	big := al != "" && bl != "" && (bigTiles >= int64(max(sms, 1)) || (m >= bigTile && n >= bigTile))
	if !big {
		p.kernel = "matmul_ss_f32"
		g.VecA, g.VecB, g.VecC = 0, 0, 0
		p.grid = [3]uint32{uint32((n + smallTile - 1) / smallTile), uint32((m + smallTile - 1) / smallTile), uint32(min(batch, maxGridZ))}
		return p, p.checkGrid()
	}
	if tf32 {
		p.kernel = "tf32_" + al + bl + "_f32"
	} else {
		p.kernel = "matmul_" + al + bl + "_f32"
	}
	p.grid = [3]uint32{uint32((n + bigTile - 1) / bigTile), uint32((m + bigTile - 1) / bigTile), uint32(min(batch, maxGridZ))}
	return p, p.checkGrid()
}

func (p *gemmPlan) checkGrid() error {
	if p.grid[1] > maxGridY {
		return fmt.Errorf("matmul with %d rows is too large for one launch", p.args.M)
	}
	return nil
}

// outputsOverlap reports whether the batch items of a [B, M, N] layout
// may write the same elements (a batch stride smaller than one item), in
// which case the items must run one after another.
func outputsOverlap(dst device.Layout) bool {
	batch, m, n := dst.Shape[0], dst.Shape[1], dst.Shape[2]
	if batch <= 1 || m == 0 || n == 0 {
		return false
	}
	span := (m-1)*dst.Strides[1] + (n-1)*dst.Strides[2] + 1
	return dst.Strides[0] < span
}

// planIndex builds the iteration of Gather (walk: dst's shape over dst,
// src and idx, with src's stride along dim zeroed) and of ScatterAdd
// (walk: src's shape over dst with its stride along dim zeroed, src, idx).
// It returns the iteration and the size and stride of the indexed
// dimension.
func planIndex(walk []int, target, other, idx device.Layout, dim int, targetFirst bool) (iterArgs, int64, int64, error) {
	size, stride := target.Shape[dim], target.Strides[dim]
	t := target.Clone()
	t.Shape = append([]int(nil), walk...)
	t.Strides[dim] = 0
	var it iterArgs
	var err error
	if targetFirst { // ScatterAdd: dst (the target) first
		it, err = makeIter(walk, t, other, idx)
	} else { // Gather: dst (other) first, then src (the target)
		it, err = makeIter(walk, other, t, idx)
	}
	// The index kernels address operands through offsets only; a Rank 0
	// iteration (possible when the target's dim has size 1) still works.
	return it, int64(size), int64(stride), err
}

// newConvArgs fills the convolution geometry for an image layout and a
// column layout.
func newConvArgs(img, col device.Layout, g device.ConvGeometry) convArgs {
	oh, ow := g.OutSize(img.Shape[2], img.Shape[3])
	dh, dw := g.Dilation()
	c := convArgs{
		N: int64(img.Shape[0]), C: int64(img.Shape[1]), H: int64(img.Shape[2]), W: int64(img.Shape[3]),
		OH: int64(oh), OW: int64(ow),
		KH: int64(g.KernelH), KW: int64(g.KernelW),
		SH: int64(g.StrideH), SW: int64(g.StrideW),
		PH: int64(g.PadH), PW: int64(g.PadW),
		DH: int64(dh), DW: int64(dw),
	}
	for i := range 4 {
		c.Is[i] = int64(img.Strides[i])
	}
	for i := range 3 {
		c.Cs[i] = int64(col.Strides[i])
	}
	return c
}

// poolFits reports whether the kernels' 32-bit plane arithmetic covers
// an [n, c, h, w] input pooled to oh × ow.
func poolFits(n, c, h, w, oh, ow int) bool {
	const lim = 1<<31 - 1
	return n*c <= lim && h*w <= lim && oh*ow <= lim && n*c*max(h*w, oh*ow) < 1<<53
}

// newPoolArgs fills the pooling geometry for the input side img (x or
// dx), the output side out (y or dy) and the index layout idx (the zero
// Layout for average pooling).
func newPoolArgs(img, out, idx device.Layout, g device.ConvGeometry) poolArgs {
	oh, ow := g.OutSize(img.Shape[2], img.Shape[3])
	dh, dw := g.Dilation()
	p := poolArgs{
		N: int64(img.Shape[0]), C: int64(img.Shape[1]), H: int64(img.Shape[2]), W: int64(img.Shape[3]),
		OH: int64(oh), OW: int64(ow),
		KH: int64(g.KernelH), KW: int64(g.KernelW),
		SH: int64(g.StrideH), SW: int64(g.StrideW),
		PH: int64(g.PadH), PW: int64(g.PadW),
		DH: int64(dh), DW: int64(dw),
	}
	p.NIn = p.N * p.C * p.H * p.W
	p.NOut = p.N * p.C * p.OH * p.OW
	p.InvIn = 1 / float64(max(p.H*p.W, 1))
	p.InvOut = 1 / float64(max(p.OH*p.OW, 1))
	p.Scale = 1 / float64(p.KH*p.KW)
	for i := range 4 {
		p.Xs[i] = int64(img.Strides[i])
		p.Ys[i] = int64(out.Strides[i])
		if len(idx.Strides) == 4 {
			p.Is[i] = int64(idx.Strides[i])
		}
	}
	return p
}

// newOptArgs converts an optimizer step's hyperparameters for n elements,
// computing the derived scalars in float64 as the CPU backend does.
func newOptArgs(n int, h device.OptimHyper) optArgs {
	b := func(v bool) int32 {
		if v {
			return 1
		}
		return 0
	}
	return optArgs{
		N:   int64(n),
		NLR: -h.LR, WD: h.WeightDecay, Mom: h.Momentum, Damp1: 1 - h.Dampening,
		B1: h.Beta1, C1: 1 - h.Beta1, B2: h.Beta2, C2: 1 - h.Beta2,
		NStep: -h.StepSize, BC2: h.BC2Sqrt, Eps: h.Eps, Shrink: h.Shrink,
		Alpha: h.Alpha, CAlpha: 1 - h.Alpha,
		Maximize: b(h.Maximize), UseWD: b(h.WeightDecay != 0), UseMom: b(h.Momentum != 0), First: b(h.FirstStep),
		Nesterov: b(h.Nesterov), AMSGrad: b(h.AMSGrad), UseShrink: b(h.Shrink != 1), Centered: b(h.Centered),
	}
}
