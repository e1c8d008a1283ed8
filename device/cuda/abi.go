package cuda

// This file is the host side of the kernel ABI: Go mirrors of the structs
// in kernels/*.cu and the functions that pack each kernel family's
// parameter list. It is pure Go (no build tag), so abi_test.go can check
// every packed parameter list against the embedded PTX without a GPU.

import (
	"fmt"
	"unsafe"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// maxRank is NB_MAX_RANK: the most dimensions a kernel operand may have
// after size-1 dimensions are dropped and mergeable ones merged.
const maxRank = 8

// iterArgs mirrors struct Iter (kernels/nabla.cuh). Dimensions are stored
// innermost first; Rank 0 means every operand is contiguous.
type iterArgs struct {
	N      int64
	Rank   int32
	_      int32
	Shape  [maxRank]int64
	Stride [4][maxRank]int64
}

// scalars mirrors struct Scalars (kernels/unary.cu).
type scalars struct {
	Da, Db float64
	Ia, Ib int64
	Fa, Fb float32
	Ua, Ub uint8
	_      [6]byte
}

// newScalars converts alpha and beta with Go's conversions, so that the
// kernels see exactly the T(alpha) of the CPU backend.
func newScalars(alpha, beta float64) scalars {
	return scalars{
		Da: alpha, Db: beta,
		Ia: int64(alpha), Ib: int64(beta),
		Fa: float32(alpha), Fb: float32(beta),
		Ua: uint8(alpha), Ub: uint8(beta),
	}
}

// redArgs mirrors struct RedArgs (kernels/reduce.cu).
type redArgs struct {
	Rows, Cols   int64
	Split, Chunk int64
	OutRank      int32
	InRank       int32
	Group        int32
	OutDType     int32
	OutShape     [maxRank]int64
	SrcOuter     [maxRank]int64
	DstOuter     [maxRank]int64
	InShape      [maxRank]int64
	InStride     [maxRank]int64
}

// redState mirrors struct St (kernels/reduce.cu), one partial result of
// a two-pass reduction.
type redState struct {
	Acc, Aux float64
	N, Idx   int64
}

// smArgs mirrors struct SmArgs (kernels/softmax.cu).
type smArgs struct {
	Rows, Cols int64
	Rank       int32
	Cache      int32
	Shape      [maxRank]int64
	SOuter     [maxRank]int64
	DOuter     [maxRank]int64
	Ss, Ds     int64
}

// gemmArgs mirrors struct GemmArgs (kernels/matmul.cu).
type gemmArgs struct {
	M, N, K, Batch int64
	As0, As1, As2  int64
	Bs0, Bs1, Bs2  int64
	Cs0, Cs1, Cs2  int64
	VecA, VecB     int32
	VecC           int32
	_              int32
}

// convArgs mirrors struct ConvArgs (kernels/conv.cu).
type convArgs struct {
	N, C, H, W int64
	OH, OW     int64
	KH, KW     int64
	SH, SW     int64
	PH, PW     int64
	DH, DW     int64
	Is         [4]int64
	Cs         [3]int64
}

// poolArgs mirrors struct PoolArgs (kernels/pool.cu).
type poolArgs struct {
	N, C, H, W int64
	OH, OW     int64
	KH, KW     int64
	SH, SW     int64
	PH, PW     int64
	DH, DW     int64
	Xs         [4]int64 // input (or input gradient) strides
	Ys         [4]int64 // output (or output gradient) strides
	Is         [4]int64 // index strides
	InvOut     float64  // 1/(OH*OW)
	InvIn      float64  // 1/(H*W)
	Scale      float64  // 1/(KH*KW)
	NOut, NIn  int64    // N*C*OH*OW and N*C*H*W
}

// optArgs mirrors struct OptArgs (kernels/optim.cu).
type optArgs struct {
	N                                   int64
	NLR, WD, Mom, Damp1, B1, C1, B2, C2 float64
	NStep, BC2, Eps, Shrink             float64
	Alpha, CAlpha                       float64
	Maximize, UseWD, UseMom, First      int32
	Nesterov, AMSGrad, UseShrink        int32
	Centered                            int32
}

// bnArgs mirrors struct BnArgs (kernels/batchnorm.cu).
type bnArgs struct {
	N, C, L      int64
	M, Total     int64       // N*L, N*C*L
	S            [3][3]int64 // strides of the [N, C, L] operands, kernel order
	VS           [4]int64    // strides of the [C] operands, kernel order
	Split, Chunk int64
	DivL, ShL    uint32 // magic divider of L (fastDivider)
	DivC, ShC    uint32 // magic divider of C
	Cols         int32
	Training     int32
	InvM         float64
}

// bnState mirrors struct BnSt (kernels/batchnorm.cu), a partial
// statistic in the reduction workspace.
type bnState struct{ N, Mean, M2 float64 }

// bnSums mirrors struct BnSums (kernels/batchnorm.cu), a channel's
// partial gradient sums.
type bnSums struct{ G, GX float64 }

// biasArgs mirrors struct BiasArgs (kernels/bias.cu).
type biasArgs struct {
	M, N     int64
	Ds0, Ds1 int64
	Ss0, Ss1 int64
	Bs       int64
	Vec      int32
	_        int32
}

// ceArgs mirrors struct CeArgs (kernels/loss.cu).
type ceArgs struct {
	Rows, Cols int64
	Xs0, Xs1   int64 // logits: row and column strides
	Ds0, Ds1   int64 // input gradient (backward)
	Ls         int64 // labels
	As, Bs     int64 // the [M] operands: loss and lse (forward), lse and g (backward)
	Group      int32 // lanes per row (1, 2, 4, ..., 32), or 0 for a block per row
	_          int32
}

// errWord mirrors struct ErrWord (kernels/nabla.cuh).
type errWord struct {
	Code, Dim    int32
	Value, Limit int64
}

// Error codes of errWord.Code.
const (
	errDivZero      = 1
	errGatherIndex  = 2
	errScatterIndex = 3
	// errLabel is NB_ERR_LABEL (kernels/loss.cu): Dim holds the row (-1
	// past 2^31), Value the label and Limit the number of classes.
	errLabel = 4
)

// argBuf holds a kernel's parameters, laid out as the kernel's parameter
// list (each parameter at the next offset aligned to its own alignment),
// with the offset of each; the launch passes cuLaunchKernel a pointer to
// each parameter.
type argBuf struct {
	w    [128]uint64
	n    uintptr
	offs [maxParams]uint32 // offset of each parameter in w
	np   int               // number of parameters
	rec  *[]argField       // when set (tests), every parameter is recorded
}

// maxParams bounds a kernel's parameter count.
const maxParams = 16

// argField is one packed parameter.
type argField struct{ Off, Size uintptr }

func (a *argBuf) reset() { a.n, a.np = 0, 0 }

func (a *argBuf) put(p unsafe.Pointer, size, align uintptr) {
	a.n = (a.n + align - 1) &^ (align - 1)
	if a.n+size > uintptr(len(a.w))*8 {
		panic(fmt.Sprintf("cuda: kernel parameters exceed %d bytes", len(a.w)*8))
	}
	if a.np == maxParams {
		panic(fmt.Sprintf("cuda: more than %d kernel parameters", maxParams))
	}
	a.offs[a.np] = uint32(a.n)
	a.np++
	dst := unsafe.Slice((*byte)(unsafe.Pointer(&a.w[0])), len(a.w)*8)
	copy(dst[a.n:a.n+size], unsafe.Slice((*byte)(p), size))
	if a.rec != nil {
		*a.rec = append(*a.rec, argField{a.n, size})
	}
	a.n += size
}

func (a *argBuf) ptr(p uintptr)     { v := uint64(p); a.put(unsafe.Pointer(&v), 8, 8) }
func (a *argBuf) u64(v uint64)      { a.put(unsafe.Pointer(&v), 8, 8) }
func (a *argBuf) i64(v int64)       { a.put(unsafe.Pointer(&v), 8, 8) }
func (a *argBuf) f64(v float64)     { a.put(unsafe.Pointer(&v), 8, 8) }
func (a *argBuf) i32(v int32)       { a.put(unsafe.Pointer(&v), 4, 4) }
func (a *argBuf) f32(v float32)     { a.put(unsafe.Pointer(&v), 4, 4) }
func (a *argBuf) u8(v uint8)        { a.put(unsafe.Pointer(&v), 1, 1) }
func (a *argBuf) iter(it *iterArgs) { a.put(unsafe.Pointer(it), unsafe.Sizeof(*it), 8) }

// The parameter lists of the kernel families, in kernel order.

func packUnary(a *argBuf, d, s uintptr, it *iterArgs, sc *scalars) {
	a.ptr(d)
	a.ptr(s)
	a.iter(it)
	a.put(unsafe.Pointer(sc), unsafe.Sizeof(*sc), 8)
}

func packBinary(a *argBuf, d, x, y uintptr, it *iterArgs, errp uintptr) {
	a.ptr(d)
	a.ptr(x)
	a.ptr(y)
	a.iter(it)
	a.ptr(errp)
}

func packCopy(a *argBuf, d, s uintptr, it *iterArgs) {
	a.ptr(d)
	a.ptr(s)
	a.iter(it)
}

// packFill passes v converted to dt with Go's conversions (Bool as 0/1 in
// the u8 kernel).
func packFill(a *argBuf, d uintptr, it *iterArgs, dt device.DType, v float64) {
	a.ptr(d)
	a.iter(it)
	switch dt {
	case device.Float32:
		a.f32(float32(v))
	case device.Float64:
		a.f64(v)
	case device.Int64:
		a.i64(int64(v))
	case device.Bool:
		b := uint8(0)
		if v != 0 {
			b = 1
		}
		a.u8(b)
	default:
		a.u8(uint8(v))
	}
}

func packWhere(a *argBuf, d, c, x, y uintptr, it *iterArgs) {
	a.ptr(d)
	a.ptr(c)
	a.ptr(x)
	a.ptr(y)
	a.iter(it)
}

func packReduce(a *argBuf, src, dst, part uintptr, r *redArgs) {
	a.ptr(src)
	a.ptr(dst)
	a.ptr(part)
	a.put(unsafe.Pointer(r), unsafe.Sizeof(*r), 8)
}

func packReducePart(a *argBuf, dst, part uintptr, r *redArgs) {
	a.ptr(dst)
	a.ptr(part)
	a.put(unsafe.Pointer(r), unsafe.Sizeof(*r), 8)
}

func packSoftmax(a *argBuf, d, s uintptr, sm *smArgs, block bool) {
	a.ptr(d)
	a.ptr(s)
	a.put(unsafe.Pointer(sm), unsafe.Sizeof(*sm), 8)
	if block {
		a.i32(1)
	} else {
		a.i32(0)
	}
}

func packGemm(a *argBuf, A, B, C uintptr, g *gemmArgs) {
	a.ptr(A)
	a.ptr(B)
	a.ptr(C)
	a.put(unsafe.Pointer(g), unsafe.Sizeof(*g), 8)
}

func packIndex(a *argBuf, d, s, idx uintptr, it *iterArgs, size, stride int64, dim int32, errp uintptr) {
	a.ptr(d)
	a.ptr(s)
	a.ptr(idx)
	a.iter(it)
	a.i64(size)
	a.i64(stride)
	a.i32(dim)
	a.ptr(errp)
}

func packRandom(a *argBuf, d uintptr, it *iterArgs, dist device.Distribution, seed, offset uint64, lo, hi float64) {
	a.ptr(d)
	a.iter(it)
	a.i32(int32(dist))
	a.u64(seed)
	a.u64(offset)
	a.f64(lo)
	a.f64(hi)
}

func packConv(a *argBuf, dst, src uintptr, c *convArgs) {
	a.ptr(dst)
	a.ptr(src)
	a.put(unsafe.Pointer(c), unsafe.Sizeof(*c), 8)
}

// packPool packs the parameters shared by every kernel of kernels/pool.cu:
// (out, in, idx, PoolArgs); idx is 0 for average pooling.
func packPool(a *argBuf, out, in, idx uintptr, p *poolArgs) {
	a.ptr(out)
	a.ptr(in)
	a.ptr(idx)
	a.put(unsafe.Pointer(p), unsafe.Sizeof(*p), 8)
}

// packOptim packs the parameters of every kernel of kernels/optim.cu:
// (p, g, s0, s1, s2, OptArgs); unused states are 0.
func packOptim(a *argBuf, p, g uintptr, s [3]uintptr, o *optArgs) {
	a.ptr(p)
	a.ptr(g)
	for _, x := range s {
		a.ptr(x)
	}
	a.put(unsafe.Pointer(o), unsafe.Sizeof(*o), 8)
}

// packBN packs the parameters of every kernel of kernels/batchnorm.cu: its
// pointers in kernel order (0 for absent operands), then BnArgs.
func packBN(a *argBuf, b *bnArgs, ptrs ...uintptr) {
	for _, p := range ptrs {
		a.ptr(p)
	}
	a.put(unsafe.Pointer(b), unsafe.Sizeof(*b), 8)
}

// packBias packs the parameters of every kernel of kernels/bias.cu:
// (d, s, bias, BiasArgs, Scalars).
func packBias(a *argBuf, d, s, bias uintptr, ba *biasArgs, sc *scalars) {
	a.ptr(d)
	a.ptr(s)
	a.ptr(bias)
	a.put(unsafe.Pointer(ba), unsafe.Sizeof(*ba), 8)
	a.put(unsafe.Pointer(sc), unsafe.Sizeof(*sc), 8)
}

// packCrossEntropy packs (loss, lse, x, labels, CeArgs, ErrWord*), the
// parameters of cross_entropy_<dtype> (kernels/loss.cu).
func packCrossEntropy(a *argBuf, loss, lse, x, labels uintptr, c *ceArgs, errp uintptr) {
	a.ptr(loss)
	a.ptr(lse)
	a.ptr(x)
	a.ptr(labels)
	a.put(unsafe.Pointer(c), unsafe.Sizeof(*c), 8)
	a.ptr(errp)
}

// packCrossEntropyBackward packs (dx, x, lse, labels, g, CeArgs,
// ErrWord*), the parameters of cross_entropy_backward_<dtype>.
func packCrossEntropyBackward(a *argBuf, dx, x, lse, labels, g uintptr, c *ceArgs, errp uintptr) {
	a.ptr(dx)
	a.ptr(x)
	a.ptr(lse)
	a.ptr(labels)
	a.ptr(g)
	a.put(unsafe.Pointer(c), unsafe.Sizeof(*c), 8)
	a.ptr(errp)
}

// Kernel names. Each kernel is <op>_<dtype> in the module of its family.

// sfx is the dtype suffix of kernel names.
func sfx(dt device.DType) string {
	switch dt {
	case device.Float32:
		return "f32"
	case device.Float64:
		return "f64"
	case device.Int64:
		return "i64"
	case device.Bool:
		return "bool"
	case device.Uint8:
		return "u8"
	}
	return "?"
}

// byteSfx is sfx with Bool mapped to u8, for kernels that treat Bool as
// bytes (fill, where, gather, reductions, comparisons).
func byteSfx(dt device.DType) string {
	if dt == device.Bool {
		return "u8"
	}
	return sfx(dt)
}

// Module names (kernels/<module>.cu).
const (
	modUnary     = "unary"
	modBinary    = "binary"
	modCopy      = "copy"
	modReduce    = "reduce"
	modSoftmax   = "softmax"
	modMatMul    = "matmul"
	modIndex     = "index"
	modRandom    = "random"
	modConv      = "conv"
	modPool      = "pool"
	modBatchNorm = "batchnorm"
	modOptim     = "optim"
	modBias      = "bias"
	modLoss      = "loss"
)

var allModules = []string{modUnary, modBinary, modCopy, modReduce, modSoftmax, modMatMul, modIndex, modRandom, modConv, modPool, modOptim, modBias, modLoss, modBatchNorm, modActivation}

// unaryKernel names the kernel of op on dt, or "" when op is not defined
// for dt. AddScalar, MulScalar and RSubScalar have no Uint8 kernel:
// package tensor sends Uint8 scalar arithmetic through the binary
// kernels, so the PTX does not carry code nothing launches.
func unaryKernel(op device.UnaryOp, dt device.DType) string {
	switch {
	case op == device.NotBool:
		if dt == device.Bool {
			return "not_bool"
		}
	case dt == device.Float32 || dt == device.Float64:
		return op.String() + "_" + sfx(dt)
	case dt == device.Uint8 && (op == device.AddScalar || op == device.MulScalar || op == device.RSubScalar):
		return ""
	case (dt == device.Int64 || dt == device.Uint8) && !op.FloatOnly():
		return op.String() + "_" + sfx(dt)
	}
	return ""
}

// binaryKernel names the kernel of op on operands of dtype dt, or "".
func binaryKernel(op device.BinaryOp, dt device.DType) string {
	switch {
	case op.IsLogical():
		if dt == device.Bool {
			return op.String() + "_bool"
		}
	case op.IsComparison():
		if dt == device.Bool {
			if op == device.Eq || op == device.Ne {
				return op.String() + "_u8"
			}
			return ""
		}
		return op.String() + "_" + sfx(dt)
	case dt == device.Float32 || dt == device.Float64:
		return op.String() + "_" + sfx(dt)
	case (dt == device.Int64 || dt == device.Uint8) && op != device.Pow:
		return op.String() + "_" + sfx(dt)
	}
	return ""
}

// copyKernel names the kernel that copies src elements into dst ones. A
// Bool byte is already 0 or 1, so a Bool source converts exactly as a
// Uint8 one does (kernels/copy.cu compiled the same code under both
// names), and Bool to Bool is the byte move of Uint8 to Uint8.
func copyKernel(src, dst device.DType) string {
	if src == device.Bool {
		src = device.Uint8
		if dst == device.Bool {
			dst = device.Uint8
		}
	}
	return "copy_" + sfx(src) + "_" + sfx(dst)
}

func fillKernel(dt device.DType) string  { return "fill_" + byteSfx(dt) }
func whereKernel(dt device.DType) string { return "where_" + byteSfx(dt) }

// reduceKernel names the row kernel of op on src dtype dt, or "" when
// there is none: Mean, LogSumExp and Var exist for floats only, as
// package tensor refuses them for integer and Bool tensors.
func reduceKernel(op device.ReduceOp, dt device.DType) string {
	if (op == device.Mean || op == device.LogSumExp || op == device.Var) && !dt.IsFloat() {
		return ""
	}
	return op.String() + "_" + byteSfx(dt)
}

func reducePartKernel(op device.ReduceOp) string { return op.String() + "_part" }

func softmaxKernel(dt device.DType, log bool) string {
	if log {
		return "log_softmax_" + sfx(dt)
	}
	return "softmax_" + sfx(dt)
}

func gatherKernel(dt device.DType) string     { return "gather_" + byteSfx(dt) }
func scatterAddKernel(dt device.DType) string { return "scatter_add_" + sfx(dt) }
func randomKernel(dt device.DType) string     { return "random_" + sfx(dt) }
func im2colKernel(dt device.DType) string     { return "im2col_" + sfx(dt) }
func col2imKernel(dt device.DType) string     { return "col2im_" + sfx(dt) }

// optimKernel names the fused optimizer kernel of op on dt.
func optimKernel(op device.OptimOp, dt device.DType) string { return op.String() + "_" + sfx(dt) }

// crossEntropyKernel names the fused cross-entropy kernel (forward or
// backward) on dt.
func crossEntropyKernel(dt device.DType, backward bool) string {
	if backward {
		return "cross_entropy_backward_" + sfx(dt)
	}
	return "cross_entropy_" + sfx(dt)
}

// biasKernel names the fused bias + activation kernel of op on dt, or ""
// when there is none.
func biasKernel(op device.UnaryOp, dt device.DType) string {
	if !backend.IsBiasActivation(op) || (dt != device.Float32 && dt != device.Float64) {
		return ""
	}
	return "bias_" + op.String() + "_" + sfx(dt)
}

// poolKernel names the forward or backward kernel of op on dt.
func poolKernel(op device.PoolOp, dt device.DType, backward bool) string {
	if backward {
		return op.String() + "_backward_" + sfx(dt)
	}
	return op.String() + "_" + sfx(dt)
}

// bnKernel names kernel stem of kernels/batchnorm.cu ("bn_stats",
// "bn_forward", ...) on dt.
func bnKernel(stem string, dt device.DType) string { return stem + "_" + sfx(dt) }

// dtypes lists every dtype, for tables and tests.
var dtypes = []device.DType{device.Float32, device.Float64, device.Int64, device.Bool, device.Uint8}
