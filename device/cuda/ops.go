package cuda

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// operand resolves a view on this device to its buffer and the device
// address of its first element, checking that the view fits the buffer.
func (b *Backend) operand(op string, v device.View) (*buffer, uintptr, error) {
	x, ok := v.Buf.(*buffer)
	if !ok || x.be != b {
		return nil, 0, b.errf("%s: buffer %T is not memory of this device", op, v.Buf)
	}
	if len(v.Strides) != len(v.Shape) {
		return nil, 0, b.errf("%s: layout has %d strides for shape %v", op, len(v.Strides), v.Shape)
	}
	if v.Numel() > 0 {
		if v.Offset < 0 || v.Offset+v.Span() > x.n {
			return nil, 0, b.errf("%s: view (offset %d, shape %v, strides %v) overruns a buffer of %d elements",
				op, v.Offset, v.Shape, v.Strides, x.n)
		}
		for _, s := range v.Strides {
			if s < 0 {
				return nil, 0, b.errf("%s: negative stride in %v", op, v.Strides)
			}
		}
		if x.freed.Load() {
			return nil, 0, b.errf("%s: the buffer was freed", op)
		}
	}
	return x, x.ptr() + uintptr(v.Offset*x.dt.Size()), nil
}

func (b *Backend) unsupported(op string, dt device.DType) error {
	return b.errf("%s is not implemented for %v", op, dt)
}

func sameShape(op string, b *Backend, dst device.View, vs ...device.View) error {
	for _, v := range vs {
		if !slices.Equal(v.Shape, dst.Shape) {
			return b.errf("%s: operand shape %v differs from the destination shape %v", op, v.Shape, dst.Shape)
		}
	}
	return nil
}

// Fill sets every element of dst to v.
func (b *Backend) Fill(dst device.View, v float64) error {
	const op = "fill"
	_, pd, err := b.operand(op, dst)
	if err != nil {
		return err
	}
	dt := dst.Buf.DType()
	it, err := makeIter(dst.Shape, dst.Layout)
	if err != nil {
		return b.errf("%s: %w", op, err)
	}
	if it.N == 0 {
		return nil
	}
	a := getArgs()
	packFill(a, pd, &it, dt, v)
	err = b.launch1(modCopy, fillKernel(dt), it.N, a)
	runtime.KeepAlive(dst.Buf)
	return err
}

// Copy copies src into dst, converting dtypes like the CPU backend.
func (b *Backend) Copy(dst, src device.View) error {
	const op = "copy"
	xd, pd, err := b.operand(op, dst)
	if err != nil {
		return err
	}
	_, ps, err := b.operand(op, src)
	if err != nil {
		return err
	}
	if err := sameShape(op, b, dst, src); err != nil {
		return err
	}
	it, err := makeIter(dst.Shape, dst.Layout, src.Layout)
	if err != nil {
		return b.errf("%s: %w", op, err)
	}
	if it.N == 0 {
		return nil
	}
	sdt, ddt := src.Buf.DType(), dst.Buf.DType()
	if sdt == ddt && it.Rank == 0 {
		size := it.N * int64(xd.dt.Size())
		if err = b.enter(op); err == nil {
			if err = b.drv.memcpyDtoD(devicePtr(pd), devicePtr(ps), size, b.stream); err != nil {
				err = b.errf("copy of %s: cuMemcpyDtoDAsync: %w", fmtBytes(size), err)
			}
			b.leave()
		}
	} else {
		a := getArgs()
		packCopy(a, pd, ps, &it)
		err = b.launch1(modCopy, copyKernel(sdt, ddt), it.N, a)
	}
	keepAlive(dst, src)
	return err
}

// Unary applies op elementwise.
func (b *Backend) Unary(op device.UnaryOp, dst, src device.View, alpha, beta float64) error {
	name := unaryKernel(op, dst.Buf.DType())
	opName := "unary " + op.String()
	if name == "" {
		return b.unsupported(opName, dst.Buf.DType())
	}
	if src.Buf.DType() != dst.Buf.DType() {
		return b.errf("%s: source dtype %v differs from destination dtype %v", opName, src.Buf.DType(), dst.Buf.DType())
	}
	ptrs, err := b.pointers(opName, dst, src)
	if err != nil {
		return err
	}
	pd, ps := ptrs[0], ptrs[1]
	if err := sameShape(opName, b, dst, src); err != nil {
		return err
	}
	it, err := makeIter(dst.Shape, dst.Layout, src.Layout)
	if err != nil {
		return b.errf("%s: %w", opName, err)
	}
	if it.N == 0 {
		return nil
	}
	sc := newScalars(alpha, beta)
	a := getArgs()
	packUnary(a, pd, ps, &it, &sc)
	err = b.launch1(modUnary, name, it.N, a)
	keepAlive(dst, src)
	return err
}

// Binary applies op elementwise to x and y.
func (b *Backend) Binary(op device.BinaryOp, dst, x, y device.View) error {
	dt := x.Buf.DType()
	opName := "binary " + op.String()
	name := binaryKernel(op, dt)
	if name == "" {
		return b.unsupported(opName, dt)
	}
	want := dt
	if op.IsComparison() {
		want = device.Bool
	}
	if y.Buf.DType() != dt || dst.Buf.DType() != want {
		return b.errf("%s: dtypes %v, %v -> %v (want %v, %v -> %v)", opName, dt, y.Buf.DType(), dst.Buf.DType(), dt, dt, want)
	}
	ptrs, err := b.pointers(opName, dst, x, y)
	if err != nil {
		return err
	}
	pd, px, py := ptrs[0], ptrs[1], ptrs[2]
	if err := sameShape(opName, b, dst, x, y); err != nil {
		return err
	}
	it, err := makeIter(dst.Shape, dst.Layout, x.Layout, y.Layout)
	if err != nil {
		return b.errf("%s: %w", opName, err)
	}
	if it.N == 0 {
		return nil
	}
	a := getArgs()
	packBinary(a, pd, px, py, &it, uintptr(b.errDev))
	err = b.launch1(modBinary, name, it.N, a)
	keepAlive(dst, x, y)
	return err
}

// Where sets dst = cond ? x : y.
func (b *Backend) Where(dst, cond, x, y device.View) error {
	const op = "where"
	dt := dst.Buf.DType()
	if cond.Buf.DType() != device.Bool || x.Buf.DType() != dt || y.Buf.DType() != dt {
		return b.errf("%s: dtypes cond %v, %v, %v -> %v (want bool and one dtype)", op, cond.Buf.DType(), x.Buf.DType(), y.Buf.DType(), dt)
	}
	ptrs, err := b.pointers(op, dst, cond, x, y)
	if err != nil {
		return err
	}
	pd, pc, px, py := ptrs[0], ptrs[1], ptrs[2], ptrs[3]
	if err := sameShape(op, b, dst, cond, x, y); err != nil {
		return err
	}
	it, err := makeIter(dst.Shape, dst.Layout, cond.Layout, x.Layout, y.Layout)
	if err != nil {
		return b.errf("%s: %w", op, err)
	}
	if it.N == 0 {
		return nil
	}
	a := getArgs()
	packWhere(a, pd, pc, px, py, &it)
	err = b.launch1(modCopy, whereKernel(dt), it.N, a)
	keepAlive(dst, cond, x, y)
	return err
}

// Random fills dst from the Philox stream (see device.Backend.Random).
func (b *Backend) Random(dst device.View, dist device.Distribution, seed, offset uint64, lo, hi float64) error {
	const op = "random"
	if dist > device.Bernoulli {
		return b.errf("%s: unknown distribution %d", op, dist)
	}
	_, pd, err := b.operand(op, dst)
	if err != nil {
		return err
	}
	it, err := makeIter(dst.Shape, dst.Layout)
	if err != nil {
		return b.errf("%s: %w", op, err)
	}
	if it.N == 0 {
		return nil
	}
	a := getArgs()
	packRandom(a, pd, &it, dist, seed, offset, lo, hi)
	err = b.launch1(modRandom, randomKernel(dst.Buf.DType()), it.N, a)
	runtime.KeepAlive(dst.Buf)
	return err
}

// Gather sets dst[i] = src[i with dimension dim replaced by idx[i]].
func (b *Backend) Gather(dst, src, idx device.View, dim int) error {
	const op = "gather"
	dt := dst.Buf.DType()
	if src.Buf.DType() != dt || idx.Buf.DType() != device.Int64 {
		return b.errf("%s: dtypes %v from %v with %v indices (want one dtype and int64 indices)", op, dt, src.Buf.DType(), idx.Buf.DType())
	}
	return b.indexOp(op, gatherKernel(dt), dst, src, idx, dim, false)
}

// ScatterAdd adds src[i] into dst[i with dimension dim replaced by
// idx[i]], accumulating duplicates atomically.
func (b *Backend) ScatterAdd(dst, src, idx device.View, dim int) error {
	const op = "scatter_add"
	dt := dst.Buf.DType()
	if dt != device.Float32 && dt != device.Float64 && dt != device.Int64 {
		return b.unsupported(op, dt)
	}
	if src.Buf.DType() != dt || idx.Buf.DType() != device.Int64 {
		return b.errf("%s: dtypes %v into %v with %v indices (want one dtype and int64 indices)", op, src.Buf.DType(), dt, idx.Buf.DType())
	}
	return b.indexOp(op, scatterAddKernel(dt), dst, src, idx, dim, true)
}

// indexOp launches a Gather (scatter false) or ScatterAdd kernel. The walk
// runs over idx's shape: dst's for Gather, src's for ScatterAdd; the
// other operand (target) differs from it only in dim.
func (b *Backend) indexOp(op, kernel string, dst, src, idx device.View, dim int, scatter bool) error {
	walk, target := dst, src
	if scatter {
		walk, target = src, dst
	}
	if err := checkIndexShapes(op, walk.Shape, target.Shape, idx.Shape, dim); err != nil {
		return b.errf("%w", err)
	}
	ptrs, err := b.pointers(op, dst, src, idx)
	if err != nil {
		return err
	}
	pd, ps, pi := ptrs[0], ptrs[1], ptrs[2]
	it, size, stride, err := planIndex(walk.Shape, target.Layout, walk.Layout, idx.Layout, dim, scatter)
	if err != nil {
		return b.errf("%s: %w", op, err)
	}
	if it.N == 0 {
		return nil
	}
	a := getArgs()
	packIndex(a, pd, ps, pi, &it, size, stride, int32(dim), uintptr(b.errDev))
	err = b.launch1(modIndex, kernel, it.N, a)
	keepAlive(dst, src, idx)
	return err
}

// checkIndexShapes checks Gather's and ScatterAdd's shapes: walk (the
// iterated shape) equals idx's and differs from target's only in dim.
func checkIndexShapes(op string, walk, target, idx []int, dim int) error {
	if !slices.Equal(walk, idx) || len(target) != len(walk) || dim < 0 || dim >= len(walk) {
		return fmt.Errorf("%s: shapes %v, %v and index %v along dimension %d do not agree", op, walk, target, idx, dim)
	}
	for d := range walk {
		if d != dim && walk[d] != target[d] {
			return fmt.Errorf("%s: shapes %v and %v differ outside dimension %d", op, walk, target, dim)
		}
	}
	return nil
}

// Im2Col unfolds the convolution windows of src into dst.
func (b *Backend) Im2Col(dst, src device.View, p device.ConvGeometry) error {
	return b.conv("im2col", dst, src, src, dst, p, im2colKernel)
}

// Col2Im folds dst's columns back, summing overlaps (the adjoint of Im2Col).
func (b *Backend) Col2Im(dst, src device.View, p device.ConvGeometry) error {
	return b.conv("col2im", dst, src, dst, src, p, col2imKernel)
}

func (b *Backend) conv(op string, dst, src, img, col device.View, p device.ConvGeometry, kernel func(device.DType) string) error {
	if err := p.Validate(); err != nil {
		return b.errf("%s: %v", op, err)
	}
	if img.Rank() != 4 || col.Rank() != 3 {
		return b.errf("%s: wants a 4-D image and a 3-D column view, got shapes %v and %v", op, img.Shape, col.Shape)
	}
	dt := dst.Buf.DType()
	if src.Buf.DType() != dt {
		return b.errf("%s: dtypes %v and %v differ", op, src.Buf.DType(), dt)
	}
	if dt != device.Float32 && dt != device.Float64 && dt != device.Int64 {
		return b.unsupported(op, dt)
	}
	oh, ow := p.OutSize(img.Shape[2], img.Shape[3])
	if oh < 1 || ow < 1 {
		return b.errf("%s: a %dx%d kernel does not fit a %dx%d input padded by %dx%d", op, p.KernelH, p.KernelW, img.Shape[2], img.Shape[3], p.PadH, p.PadW)
	}
	if want := p.ColumnShape(img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]); !slices.Equal(want, col.Shape) {
		return b.errf("%s: column shape %v should be %v for image shape %v", op, col.Shape, want, img.Shape)
	}
	ptrs, err := b.pointers(op, dst, src)
	if err != nil {
		return err
	}
	pd, ps := ptrs[0], ptrs[1]
	c := newConvArgs(img.Layout, col.Layout, p)
	n := int64(dst.Numel())
	if n == 0 {
		return nil
	}
	a := getArgs()
	packConv(a, pd, ps, &c)
	err = b.launch1(modConv, kernel(dt), n, a)
	keepAlive(dst, src)
	return err
}

// Pool2d pools the windows of src into dst (max pooling also writes the
// argmax indices into idx): one thread per output element.
func (b *Backend) Pool2d(op device.PoolOp, dst, idx, src device.View, g device.ConvGeometry) error {
	const name = "pool2d"
	if err := backend.CheckPool(name, op, src, dst, idx, g); err != nil {
		return b.errf("%w", err)
	}
	return b.pool(name, poolKernel(op, dst.Buf.DType(), false), op, dst, src, idx, src.Layout, dst.Layout, g)
}

// Pool2dBackward overwrites dx with the input gradient of Pool2d: one
// thread per input element, gathering from the windows that cover it.
func (b *Backend) Pool2dBackward(op device.PoolOp, dx, dy, idx device.View, g device.ConvGeometry) error {
	const name = "pool2d backward"
	if err := backend.CheckPool(name, op, dx, dy, idx, g); err != nil {
		return b.errf("%w", err)
	}
	return b.pool(name, poolKernel(op, dx.Buf.DType(), true), op, dx, dy, idx, dx.Layout, dy.Layout, g)
}

// pool launches a kernel of kernels/pool.cu that writes out from in (and
// idx for max pooling), one thread per element of out; img and pooled are
// the layouts of the [N, C, H, W] and [N, C, OH, OW] sides.
func (b *Backend) pool(name, kernel string, op device.PoolOp, out, in, idx device.View, img, pooled device.Layout, g device.ConvGeometry) error {
	ptrs, err := b.pointers(name, out, in)
	if err != nil {
		return err
	}
	po, pi := ptrs[0], ptrs[1]
	var px uintptr
	var idxLayout device.Layout
	if op == device.MaxPool {
		if _, px, err = b.operand(name, idx); err != nil {
			return err
		}
		idxLayout = idx.Layout
	}
	n := int64(out.Numel())
	if n == 0 {
		return nil
	}
	s, ps := img.Shape, pooled.Shape
	if !poolFits(s[0], s[1], s[2], s[3], ps[2], ps[3]) {
		return b.errf("%s: input %v is too large for the pooling kernels' 32-bit plane indexing", name, s)
	}
	p := newPoolArgs(img, pooled, idxLayout, g)
	a := getArgs()
	packPool(a, po, pi, px, &p)
	err = b.launch1(modPool, kernel, n, a)
	keepAlive(out, in)
	if op == device.MaxPool {
		runtime.KeepAlive(idx.Buf)
	}
	return err
}

// OptimStep applies one fused optimizer update in place: one thread per
// element.
func (b *Backend) OptimStep(op device.OptimOp, p, g device.View, state [3]device.View, h device.OptimHyper) error {
	const name = "optim step"
	if err := backend.CheckOptim(name, op, p, g, state, h); err != nil {
		return b.errf("%w", err)
	}
	ptrs, err := b.pointers(name, p, g)
	if err != nil {
		return err
	}
	pp, pg := ptrs[0], ptrs[1]
	var ps [3]uintptr
	for i, need := range backend.OptimStates(op, h) {
		if need {
			if _, ps[i], err = b.operand(name, state[i]); err != nil {
				return err
			}
		}
	}
	n := p.Numel()
	if n == 0 {
		return nil
	}
	o := newOptArgs(n, h)
	a := getArgs()
	packOptim(a, pp, pg, ps, &o)
	err = b.launch1(modOptim, optimKernel(op, p.Buf.DType()), int64(n), a)
	keepAlive(p, g)
	for _, s := range state {
		runtime.KeepAlive(s.Buf)
	}
	return err
}

// pointers checks each view as operand does and returns the device
// addresses of their first elements, in order.
func (b *Backend) pointers(op string, views ...device.View) ([]uintptr, error) {
	ptrs := make([]uintptr, len(views))
	for i, v := range views {
		_, p, err := b.operand(op, v)
		if err != nil {
			return nil, err
		}
		ptrs[i] = p
	}
	return ptrs, nil
}

// keepAlive keeps the views' buffers from being collected (and recycled
// by the allocator) before the kernels queued on them have been launched.
func keepAlive(views ...device.View) {
	for _, v := range views {
		runtime.KeepAlive(v.Buf)
	}
}
