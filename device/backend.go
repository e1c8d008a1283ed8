package device

// Buffer is a backend's handle to a block of device memory holding Len
// elements of one dtype. Its contents are reachable only through the
// backend that made it.
type Buffer interface {
	DType() DType
	Len() int
}

// View is a strided window onto a buffer: the operand type of every
// backend operation.
type View struct {
	Buf Buffer
	Layout
}

// Backend is the set of primitives a device implements. Every tensor
// operation in nabla is built from these.
//
// Conventions shared by all operations:
//   - The destination view comes first. Unless an operation says otherwise
//     every operand has the destination's shape; broadcasting is expressed
//     by zero strides, prepared by the caller.
//   - Views may be non-contiguous; destinations never overlap their sources
//     except when they are exactly equal (in-place elementwise updates).
//   - Dtypes are checked by the caller; a backend may return an error for a
//     combination it does not implement.
//   - Operations may run asynchronously; Synchronize, and copies to the
//     host, wait for everything queued before them.
type Backend interface {
	// Device is the device this backend runs on.
	Device() Device

	// Alloc returns a buffer of n elements; its contents are unspecified.
	Alloc(dt DType, n int) (Buffer, error)
	// Upload copies a host slice ([]float32, []float64, []int64, []bool or
	// []uint8, matching dst's dtype and length) into dst.
	Upload(dst Buffer, src any) error
	// Download copies src into a host slice of matching type and length.
	Download(dst any, src Buffer) error
	// Synchronize waits until all queued work on the device has finished.
	Synchronize() error

	// Fill sets every element of dst to v (converted to dst's dtype).
	Fill(dst View, v float64) error
	// Copy copies src into dst elementwise, converting the dtype if they
	// differ (float to integer truncates toward zero; nonzero to Bool is true).
	Copy(dst, src View) error
	// Unary applies op elementwise; alpha and beta are the op's scalar
	// parameters (see UnaryOp).
	Unary(op UnaryOp, dst, src View, alpha, beta float64) error
	// Binary applies op elementwise to a and b. Comparison ops write a Bool
	// destination; the others write the operands' dtype.
	Binary(op BinaryOp, dst, a, b View) error
	// BiasActivation sets dst[m, n] = op(src[m, n] + bias[n]) for [M, N]
	// views dst and src and an [N] view bias of one float dtype, in one
	// pass: the epilogue of a fully connected layer. op is Relu,
	// LeakyRelu, Sigmoid, Tanh, Elu, Softplus or Gelu (alpha and beta as
	// for Unary), or AddScalar, where alpha 0 means the bias alone, exactly
	// Binary(Add) (no "+ 0", which would turn a -0 sum into +0). dst may
	// equal src. The results equal Binary(Add) followed by Unary(op) bit
	// for bit.
	BiasActivation(op UnaryOp, dst, src, bias View, alpha, beta float64) error
	// Where sets dst = cond ? a : b elementwise; cond is Bool.
	Where(dst, cond, a, b View) error
	// Reduce reduces the last n dimensions of src into dst, whose shape is
	// src's shape without those dimensions. ArgMax and ArgMin write Int64
	// indices into the flattened reduced block.
	Reduce(op ReduceOp, dst, src View, n int) error
	// Softmax writes the softmax (or, with log, the log-softmax) of src
	// along its last dimension into dst.
	Softmax(dst, src View, log bool) error
	// CrossEntropy is log-softmax followed by the negative log-likelihood,
	// fused: for x, an [M, C] float view of logits, and labels, an Int64
	// [M] view of class indices, it writes lse[i] = logsumexp(x[i, :]) and
	// loss[i] = lse[i] - x[i, labels[i]] into loss and lse, [M] views of
	// x's dtype, reading each row of x from memory once (a running
	// maximum and a sum rescaled as it grows, or two sweeps over a row in
	// cache). lse is what CrossEntropyBackward needs. NaN and infinities
	// give what Reduce(LogSumExp) gives for lse. A label outside [0, C) is
	// an error naming it; a device that runs asynchronously reports it at
	// the next synchronisation, as Gather does a bad index.
	CrossEntropy(loss, lse, x, labels View) error
	// CrossEntropyBackward overwrites dx, an [M, C] view, with the
	// gradient of CrossEntropy's loss: dx[i, j] = g[i]·(e^(x[i, j] -
	// lse[i]) - [j == labels[i]]) in one pass over x, for the upstream
	// gradient g and the lse that CrossEntropy wrote ([M] views of x's
	// dtype). Labels are checked as CrossEntropy checks them; dx may equal
	// x.
	CrossEntropyBackward(dx, x, lse, labels, g View) error
	// MatMul computes dst[b] = a[b] · b[b] for 3-D views of shapes
	// [B, M, K], [B, K, N] and [B, M, N]; any of the strides may be
	// non-unit, so transposed and batch-broadcast operands need no copy.
	MatMul(dst, a, b View) error
	// Gather sets dst[i] = src[i with dimension dim replaced by idx[i]];
	// dst and idx (Int64) have one shape, src differs from it only in dim.
	Gather(dst, src, idx View, dim int) error
	// ScatterAdd adds src[i] into dst[i with dimension dim replaced by
	// idx[i]]; src and idx (Int64) have one shape. Duplicate indices
	// accumulate.
	ScatterAdd(dst, src, idx View, dim int) error
	// Im2Col unfolds the sliding windows of p over src, an [N, C, H, W]
	// view, into dst, an [N, C*KH*KW, OH*OW] view (see
	// ConvGeometry.ColumnShape): dst[n][(c*KH+i)*KW+j][oh*OW+ow] is the
	// input element that kernel tap (i, j) of window (oh, ow) reads, or 0
	// where it falls in the padding. A convolution is then one matrix
	// product per batch item. Float and Int64 dtypes.
	Im2Col(dst, src View, p ConvGeometry) error
	// Col2Im is the adjoint of Im2Col: it overwrites dst, an [N, C, H, W]
	// view, with the sum over all windows of the entries of src (an
	// [N, C*KH*KW, OH*OW] view) that Im2Col would have copied from each
	// position; overlapping windows accumulate and positions that no
	// window reads become 0. It turns column gradients into input
	// gradients.
	Col2Im(dst, src View, p ConvGeometry) error
	// Pool2d pools the windows of g over src, an [N, C, H, W] view, into
	// dst, an [N, C, OH, OW] view (see PoolOp; g.OutSize gives OH and
	// OW). For MaxPool, padding reads -∞ and idx (Int64, dst's shape)
	// receives the flat index ih*W + iw, within the input plane, of each
	// window's first maximum; for AvgPool padding reads 0, every window is
	// divided by KernelH*KernelW (count_include_pad), and idx may be the
	// zero View. Float dtypes.
	Pool2d(op PoolOp, dst, idx, src View, g ConvGeometry) error
	// Pool2dBackward overwrites dx, the [N, C, H, W] input gradient, from
	// dy, the [N, C, OH, OW] output gradient: for MaxPool each dy goes to
	// the input position idx holds (as Pool2d wrote it; duplicates
	// accumulate and indices outside the plane are ignored); for AvgPool
	// each input position gets the sum of the dy of the windows whose
	// in-bounds taps cover it, times 1/(KernelH*KernelW), and idx may be
	// the zero View. Positions that receive nothing are 0.
	Pool2dBackward(op PoolOp, dx, dy, idx View, g ConvGeometry) error
	// BatchNormStats writes the per-channel mean and biased variance of x,
	// an [N, C, L] view (batch, channel, positions), over N and L into
	// mean and variance, [C] views of x's float dtype. The statistics are
	// accumulated in float64 for both float dtypes with a numerically
	// stable scheme (partial means and squared deviations combined by
	// Chan's rule), so a large mean does not swamp a small variance.
	// Channels of an empty batch get NaN.
	BatchNormStats(mean, variance, x View) error
	// BatchNormForward normalises x, an [N, C, L] view, per channel:
	// xhat = (x - mean[c])·invstd[c] and y = xhat·weight[c] + bias[c],
	// rounded in x's dtype. mean, invstd, weight and bias are [C] views;
	// weight and bias may be the zero View (1 and 0), and so may xhat when
	// only y is wanted. y and xhat may be exactly x (in place).
	BatchNormForward(y, xhat, x, mean, invstd, weight, bias View) error
	// BatchNormBackward computes the gradients of BatchNormForward from
	// the output gradient g and the saved xhat ([N, C, L] views), invstd
	// and weight ([C]; weight may be the zero View, meaning 1): with
	// m = N·L, w = weight[c] and sums over N and L (accumulated in
	// float64),
	//
	//	dweight[c] = Σ g·xhat, dbias[c] = Σ g
	//	dx = invstd·(w·g - w·(Σg + xhat·Σ g·xhat)/m)   (training)
	//	dx = invstd·w·g                                 (evaluation)
	//
	// Any of dx, dweight and dbias may be the zero View when not wanted;
	// dx may be exactly g or xhat (in place).
	BatchNormBackward(dx, dweight, dbias, g, xhat, invstd, weight View, training bool) error
	// OptimStep applies one optimizer update (see OptimOp and
	// OptimHyper) in place to the parameter p and the state views that
	// OptimStates names, reading the gradient g, in a single pass. All
	// are contiguous views of one shape and float dtype; unused states
	// may be zero Views.
	OptimStep(op OptimOp, p, g View, state [3]View, h OptimHyper) error
	// Random fills dst from the counter-based Philox4x32-10 generator:
	// element k (in row-major order of dst) uses counter offset+k under key
	// seed, so a stream is reproducible on every backend.
	Random(dst View, dist Distribution, seed, offset uint64, a, b float64) error
	// Dropout applies inverted dropout with probability p to src in one
	// pass, drawing no memory for the mask: element k (in row-major order
	// of dst) is kept exactly when Random(dst, Bernoulli, seed, offset,
	// 1-p, 0) would draw a 1 there, and dst[k] = src[k]·m with
	// m = 1/(1-p) (rounded to the dtype) where kept and 0 elsewhere: bit
	// for bit the product with the scaled Bernoulli mask.
	// Applied to the output gradient with the same seed and offset it is
	// dropout's backward pass. Float dtypes; dst may equal src.
	Dropout(dst, src View, p float64, seed, offset uint64) error
	// UnaryBackward writes dx = g·f'(x), the gradient of the activation
	// op (alpha and beta as for Unary) for the upstream gradient g, in one
	// pass. x is the op's input and y its output; each op reads only one
	// of them (see UnaryOp.BackwardOperand) and the other may be the zero
	// View. Ops without a fused gradient return an error. Float dtypes;
	// dx may equal g.
	UnaryBackward(op UnaryOp, dx, g, x, y View, alpha, beta float64) error
	// Sort sorts src along its last dimension, stably: values receives
	// the sorted elements (src's dtype; it may be the zero View when only
	// the order is wanted) and indices (Int64) the position in src of
	// each, both with src's shape and neither overlapping src. NaN sorts
	// above +∞, as in PyTorch: last in ascending order, first in
	// descending order; equal elements keep their order in both
	// directions. Float, Int64 and Uint8 dtypes; src has at least one
	// dimension. A backend without a sort kernel can build one from its
	// other primitives as a bitonic sorting network.
	Sort(values, indices, src View, descending bool) error
}
