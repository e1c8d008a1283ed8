package cuda

import (
	"unsafe"

	"github.com/nabla-go/nabla/device"
)

// Reduce reduces the last n dimensions of src into dst.
func (b *Backend) Reduce(op device.ReduceOp, dst, src device.View, n int) error {
	opName := "reduce " + op.String()
	if op > device.Var {
		return b.errf("reduce: unknown op %d", op)
	}
	if n < 0 || n > src.Rank() {
		return b.errf("%s: cannot reduce %d dims of a rank-%d view", opName, n, src.Rank())
	}
	ptrs, err := b.pointers(opName, dst, src)
	if err != nil {
		return err
	}
	name := reduceKernel(op, src.Buf.DType())
	if name == "" {
		return b.unsupported(opName, src.Buf.DType())
	}
	pd, ps := ptrs[0], ptrs[1]
	p, err := planReduce(dst.Layout, src.Layout, n, b.sms)
	if err != nil {
		return b.errf("%s: %w", opName, err)
	}
	if p.args.Rows == 0 {
		return nil
	}
	p.args.OutDType = int32(dst.Buf.DType())
	var part *block
	if p.args.Split > 1 {
		part, err = b.alloc.get(p.args.Rows * p.args.Split * int64(unsafe.Sizeof(redState{})))
		if err != nil {
			return err
		}
		// Back to the cache once both kernels are queued: any later user
		// of the block is ordered after them on the stream.
		defer b.alloc.put(part)
	}
	a := getArgs()
	packReduce(a, ps, pd, blockPtr(part), &p.args)
	err = b.launch(modReduce, name, [3]uint32{p.blocks, 1, 1}, 0, a)
	if err == nil && part != nil {
		a = getArgs()
		packReducePart(a, pd, blockPtr(part), &p.args)
		err = b.launch(modReduce, reducePartKernel(op), [3]uint32{p.partBlocks, 1, 1}, 0, a)
	}
	keepAlive(dst, src)
	return err
}

func blockPtr(blk *block) uintptr {
	if blk == nil {
		return 0
	}
	return uintptr(blk.ptr)
}

// Softmax writes the softmax (or log-softmax) of src along its last
// dimension into dst.
func (b *Backend) Softmax(dst, src device.View, log bool) error {
	const op = "softmax"
	dt := src.Buf.DType()
	if dt != device.Float32 && dt != device.Float64 {
		return b.unsupported(op, dt)
	}
	if dst.Buf.DType() != dt {
		return b.errf("%s: destination dtype %v differs from %v", op, dst.Buf.DType(), dt)
	}
	ptrs, err := b.pointers(op, dst, src)
	if err != nil {
		return err
	}
	pd, ps := ptrs[0], ptrs[1]
	if err := sameShape(op, b, dst, src); err != nil {
		return err
	}
	p, err := planSoftmax(dst.Layout, src.Layout, b.sms)
	if err != nil {
		return b.errf("%s: %w", op, err)
	}
	if p.args.Rows == 0 || p.args.Cols == 0 {
		return nil
	}
	p.withCache(dt.Size())
	a := getArgs()
	packSoftmax(a, pd, ps, &p.args, p.block)
	err = b.launch(modSoftmax, softmaxKernel(dt, log), [3]uint32{p.blocks, 1, 1}, p.smem, a)
	keepAlive(dst, src)
	return err
}

// MatMul computes dst[i] = a[i]·b[i] for 3-D views.
func (b *Backend) MatMul(dst, x, y device.View) error {
	const op = "matmul"
	if x.Rank() != 3 || y.Rank() != 3 || dst.Rank() != 3 {
		return b.errf("%s wants 3-D views, got ranks %d, %d, %d", op, x.Rank(), y.Rank(), dst.Rank())
	}
	dt := dst.Buf.DType()
	if dt != device.Float32 && dt != device.Float64 {
		return b.unsupported(op, dt)
	}
	if x.Buf.DType() != dt || y.Buf.DType() != dt {
		return b.errf("%s: dtypes %v · %v -> %v differ", op, x.Buf.DType(), y.Buf.DType(), dt)
	}
	ptrs, err := b.pointers(op, dst, x, y)
	if err != nil {
		return err
	}
	pd, px, py := ptrs[0], ptrs[1], ptrs[2]
	batch, m, n, k := dst.Shape[0], dst.Shape[1], dst.Shape[2], x.Shape[2]
	if x.Shape[0] != batch || y.Shape[0] != batch || x.Shape[1] != m || y.Shape[1] != k || y.Shape[2] != n {
		return b.errf("%s shapes %v · %v -> %v do not agree", op, x.Shape, y.Shape, dst.Shape)
	}
	if batch == 0 || m == 0 || n == 0 {
		return nil
	}
	if k == 0 {
		return b.Fill(dst, 0)
	}
	tf32 := AllowTF32() && b.tf32
	items := []int{-1} // all batch items in one launch
	if outputsOverlap(dst.Layout) {
		// Batch items write overlapping memory: run them in order, as the
		// CPU backend does.
		items = items[:0]
		for i := range batch {
			items = append(items, i)
		}
	}
	for _, i := range items {
		dl, xl, yl := dst.Layout, x.Layout, y.Layout
		pdi, pxi, pyi := pd, px, py
		if i >= 0 {
			item := func(l device.Layout) device.Layout {
				return device.Layout{Shape: []int{1, l.Shape[1], l.Shape[2]}, Strides: l.Strides}
			}
			dl, xl, yl = item(dl), item(xl), item(yl)
			pdi += uintptr(i * dst.Strides[0] * dt.Size())
			pxi += uintptr(i * x.Strides[0] * dt.Size())
			pyi += uintptr(i * y.Strides[0] * dt.Size())
		}
		p, err := planGemm(dl, xl, yl, dt, pxi, pyi, pdi, tf32, b.sms)
		if err != nil {
			return b.errf("%s: %w", op, err)
		}
		a := getArgs()
		packGemm(a, pxi, pyi, pdi, &p.args)
		if err := b.launch(modMatMul, p.kernel, p.grid, 0, a); err != nil {
			return err
		}
	}
	keepAlive(dst, x, y)
	return nil
}
