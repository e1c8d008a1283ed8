package cpu

import (
	"fmt"
	"runtime"

	"github.com/nabla-go/nabla/device"
)

func (c *host) MatMul(dst, a, b device.View) error {
	if a.Rank() != 3 || b.Rank() != 3 || dst.Rank() != 3 {
		return fmt.Errorf("device: cpu: matmul wants 3-D views, got ranks %d, %d, %d", a.Rank(), b.Rank(), dst.Rank())
	}
	switch dst.Buf.DType() {
	case device.Float32:
		return runMatMul[float32](dst, a, b, gemmF32, gemmSerialF32)
	case device.Float64:
		return runMatMul[float64](dst, a, b, gemmF64, gemmSerialF64)
	}
	return unsupported("matmul", dst.Buf.DType())
}

// gemmFunc computes C = A·B for an m×k matrix A with element (i, p) at
// a[i*ars+p*acs], a k×n matrix B with (p, j) at b[p*brs+j*bcs], and an
// m×n matrix C with (i, j) at c[i*crs+j*ccs]. C is overwritten (not
// accumulated); k may be 0, which zeroes C.
type gemmFunc[T float] func(m, n, k int, a []T, ars, acs int, b []T, brs, bcs int, c []T, crs, ccs int)

// batchSerialWork is the m·n·k below which a batch of products is spread
// over threads one whole product each, rather than threading each product.
const batchSerialWork = 1 << 20

// batchPerThread is the number of items per thread from which a batch of
// products of any size is spread over threads one whole product each.
const batchPerThread = 4

// runMatMul multiplies each batch item with gemm, which may use several
// threads; when the items are small it runs them in parallel with serial,
// the single-threaded form.
func runMatMul[T float](dst, a, b device.View, gemm, serial gemmFunc[T]) error {
	d, err := slice[T]("matmul", dst)
	if err != nil {
		return err
	}
	x, err := slice[T]("matmul", a)
	if err != nil {
		return err
	}
	y, err := slice[T]("matmul", b)
	if err != nil {
		return err
	}
	batch, m, n, k := dst.Shape[0], dst.Shape[1], dst.Shape[2], a.Shape[2]
	if a.Shape[0] != batch || b.Shape[0] != batch || a.Shape[1] != m || b.Shape[1] != k || b.Shape[2] != n {
		return fmt.Errorf("device: cpu: matmul shapes %v · %v -> %v do not agree", a.Shape, b.Shape, dst.Shape)
	}
	if batch == 0 || m == 0 || n == 0 {
		return nil
	}
	item := func(i int, gemm gemmFunc[T]) {
		gemm(m, n, k,
			x[a.Offset+i*a.Strides[0]:], a.Strides[1], a.Strides[2],
			y[b.Offset+i*b.Strides[0]:], b.Strides[1], b.Strides[2],
			d[dst.Offset+i*dst.Strides[0]:], dst.Strides[1], dst.Strides[2])
	}
	// Items may run concurrently only if their outputs are disjoint: the
	// batch stride must step past the whole of one item. They do when each
	// is small, and also when there are several per thread (a
	// convolution's per-image products): whole items then balance over
	// the threads, where threading each item would make every thread wait
	// for the others once per item.
	span := (m-1)*dst.Strides[1] + (n-1)*dst.Strides[2] + 1
	work, threads := m*n*max(k, 1), runtime.GOMAXPROCS(0)
	if batch > 1 && dst.Strides[0] >= span && (work < batchSerialWork || batch >= batchPerThread*threads) {
		gemmFor(batch, max(1, batchSerialWork/work), threads, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				item(i, serial)
			}
		})
		return nil
	}
	for i := 0; i < batch; i++ {
		item(i, gemm)
	}
	return nil
}
