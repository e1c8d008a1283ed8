package tensor_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/pytest"
	"github.com/nabla-go/nabla/tensor"
)

// Tests of Sort, ArgSort, TopK, CumSum, Flip, Repeat, OneHot, Norm, Any
// and All: hand-checked values, errors, and a comparison with PyTorch.

func TestMoreOpsValues(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	x := tensor.FromSlice([]float64{3, 1, nan, 2, 1, -1}, 2, 3)
	ints := tensor.FromSlice([]int64{5, -2, 5, 0}, 2, 2)
	cases := []struct {
		name  string
		got   *tensor.Tensor
		want  []float64
		shape []int
	}{
		{"sort", first(x.Sort(1, false)), []float64{1, 3, nan, -1, 1, 2}, []int{2, 3}},
		{"sort indices", second(x.Sort(1, false)), []float64{1, 0, 2, 2, 1, 0}, []int{2, 3}},
		{"sort descending dim0", first(x.Sort(0, true)), []float64{3, 1, nan, 2, 1, -1}, []int{2, 3}},
		{"sort stable ties", second(tensor.FromSlice([]int64{2, 1, 2, 1}).Sort(0, true)), []float64{0, 2, 1, 3}, []int{4}},
		{"sort 0-d", second(tensor.Scalar(4.0).Sort(0, false)), []float64{0}, []int{}},
		{"sort bool", first(tensor.FromSlice([]bool{true, false, true}).Sort(0, false)), []float64{0, 1, 1}, []int{3}},
		{"argsort", x.ArgSort(-1, true), []float64{2, 0, 1, 0, 1, 2}, []int{2, 3}},
		{"topk", first(x.TopK(2, 1, true)), []float64{nan, 3, 2, 1}, []int{2, 2}},
		{"topk smallest", second(ints.TopK(1, 0, false)), []float64{0, 0}, []int{1, 2}},
		{"topk 0", first(x.TopK(0, 1, true)), nil, []int{2, 0}},
		{"cumsum", tensor.FromSlice([]float64{1, 2, 3, 4, 5}).CumSum(0), []float64{1, 3, 6, 10, 15}, []int{5}},
		{"cumsum dim0", ints.CumSum(0), []float64{5, -2, 10, -2}, []int{2, 2}},
		{"cumsum nan", x.CumSum(1), []float64{3, 4, nan, 2, 3, 2}, []int{2, 3}},
		{"cumsum bool", tensor.FromSlice([]bool{true, false, true}).CumSum(0), []float64{1, 1, 2}, []int{3}},
		{"cumsum empty", tensor.Zeros(0, 3).CumSum(1), nil, []int{0, 3}},
		{"flip", ints.Flip(1), []float64{-2, 5, 0, 5}, []int{2, 2}},
		{"flip both", ints.Flip(0, -1), []float64{0, 5, -2, 5}, []int{2, 2}},
		{"repeat", tensor.FromSlice([]int64{1, 2}).Repeat(2, 2), []float64{1, 2, 1, 2, 1, 2, 1, 2}, []int{2, 4}},
		{"repeat rows", ints.Repeat(2, 1), []float64{5, -2, 5, 0, 5, -2, 5, 0}, []int{4, 2}},
		{"repeat zero", ints.Repeat(0, 1), nil, []int{0, 2}},
		{"onehot", tensor.OneHot(tensor.FromSlice([]int64{2, 0}), 3), []float64{0, 0, 1, 1, 0, 0}, []int{2, 3}},
		{"onehot inferred", tensor.OneHot(tensor.FromSlice([]int64{1}, 1, 1), -1), []float64{0, 1}, []int{1, 1, 2}},
		{"norm", tensor.FromSlice([]float64{3, -4}).Norm(2), []float64{5}, []int{}},
		{"norm 1 dim", x.Norm(1, 1), []float64{nan, 4}, []int{2}},
		{"norm inf keepdim", tensor.FromSlice([]float64{3, -4, 1, 2}, 2, 2).NormKeepDim(inf, 0), []float64{3, 4}, []int{1, 2}},
		{"norm -inf", tensor.FromSlice([]float64{3, -4, 1, -2}).Norm(-inf), []float64{1}, []int{}},
		{"norm 0", tensor.FromSlice([]float64{0, -4, 0, 2}).Norm(0), []float64{2}, []int{}},
		{"norm 3", tensor.FromSlice([]float64{1, 2}).Norm(3), []float64{math.Cbrt(9)}, []int{}},
		{"any", x.Any(1), []float64{1, 1}, []int{2}},
		{"any zeros", tensor.Zeros(2, 2).Any(), []float64{0}, []int{}},
		{"all", tensor.FromSlice([]int64{1, 0, 2, 3}, 2, 2).All(1), []float64{0, 1}, []int{2}},
		{"all empty", tensor.Zeros(0).All(), []float64{1}, []int{}},
		{"any empty", tensor.Zeros(0).Any(), []float64{0}, []int{}},
		{"all bool", tensor.FromSlice([]bool{true, true}).All(), []float64{1}, []int{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.want == nil {
				c.want = []float64{}
			}
			requireClose(t, c.want, c.shape, c.got, 1e-15)
		})
	}
}

func first(a, _ *tensor.Tensor) *tensor.Tensor  { return a }
func second(_, b *tensor.Tensor) *tensor.Tensor { return b }

func TestMoreOpsDTypes(t *testing.T) {
	require.Equal(t, tensor.Int64, tensor.FromSlice([]uint8{1, 2}).CumSum(0).DType())
	require.Equal(t, tensor.Float32, tensor.Ones(3).CumSum(0).DType())
	require.Equal(t, tensor.Bool, tensor.Ones(3).Any().DType())
	require.Equal(t, tensor.Uint8, first(tensor.FromSlice([]uint8{3, 1}).Sort(0, false)).DType())
	require.Equal(t, []uint8{1, 3}, first(tensor.FromSlice([]uint8{3, 1}).Sort(0, false)).Uint8s())
}

func TestMoreOpsErrors(t *testing.T) {
	x := tensor.Zeros(2, 3)
	requireFails(t, tensor.ErrArgument, func() { x.TopK(4, 1, true) }, "TopK", "k = 4", "[0, 3]")
	requireFails(t, tensor.ErrIndex, func() { x.Sort(2, false) }, "Sort")
	requireFails(t, tensor.ErrArgument, func() { x.Flip() }, "Flip", "at least one dimension")
	requireFails(t, tensor.ErrArgument, func() { x.Flip(0, -2) }, "Flip", "twice")
	requireFails(t, tensor.ErrArgument, func() { x.Repeat(2) }, "Repeat", "one per dimension")
	requireFails(t, tensor.ErrArgument, func() { x.Repeat(1, -1) }, "Repeat", "negative")
	requireFails(t, tensor.ErrDType, func() { tensor.OneHot(x, 3) }, "OneHot", "Int64")
	requireFails(t, tensor.ErrIndex, func() { tensor.OneHot(tensor.FromSlice([]int64{1, 3}), 3) }, "OneHot", "[0, 3)")
	requireFails(t, tensor.ErrArgument, func() { tensor.OneHot(tensor.Of(tensor.Int64).Zeros(0), -1) }, "OneHot", "empty")
	requireFails(t, tensor.ErrDType, func() { tensor.FromSlice([]int64{1}).Norm(2) }, "Norm")
	requireFails(t, tensor.ErrArgument, func() { x.Norm(math.NaN()) }, "Norm", "NaN")
}

// torchMoreOps lists the comparisons with PyTorch: each applies the Go
// function and the Python expression (of x) to the same input.
func torchMoreOps() []struct {
	name, expr string
	x          *tensor.Tensor
	f          func(*tensor.Tensor) *tensor.Tensor
} {
	gen := tensor.NewGenerator(11)
	rnd := tensor.Of(tensor.Float64).WithGenerator(gen).Randn(6, 9)
	ties := tensor.Of(tensor.Float64).WithGenerator(gen).RandInt(0, 4, 5, 40).As(tensor.Float32)
	special := tensor.FromSlice([]float64{math.NaN(), 1, math.Inf(-1), 0, math.NaN(), math.Inf(1), -1, 1, math.Copysign(0, -1), 2}, 2, 5)
	ints := tensor.Of(tensor.Int64).WithGenerator(gen).RandInt(-5, 5, 4, 7)
	labels := tensor.Of(tensor.Int64).WithGenerator(gen).RandInt(0, 10, 3, 4)
	bools := ints.Gt(0)
	type c = struct {
		name, expr string
		x          *tensor.Tensor
		f          func(*tensor.Tensor) *tensor.Tensor
	}
	return []c{
		{"sort", "x.sort(dim=1, stable=True)[0]", rnd, func(x *tensor.Tensor) *tensor.Tensor { return first(x.Sort(1, false)) }},
		{"sort_idx", "x.sort(dim=1, stable=True)[1]", rnd, func(x *tensor.Tensor) *tensor.Tensor { return second(x.Sort(1, false)) }},
		{"sort_desc_dim0", "x.sort(dim=0, descending=True, stable=True)[1]", rnd, func(x *tensor.Tensor) *tensor.Tensor { return second(x.Sort(0, true)) }},
		{"sort_ties", "x.sort(dim=-1, stable=True)[1]", ties, func(x *tensor.Tensor) *tensor.Tensor { return second(x.Sort(-1, false)) }},
		{"sort_ties_desc", "x.sort(dim=-1, descending=True, stable=True)[1]", ties, func(x *tensor.Tensor) *tensor.Tensor { return second(x.Sort(-1, true)) }},
		{"sort_special", "x.sort(dim=1, stable=True)[0]", special, func(x *tensor.Tensor) *tensor.Tensor { return first(x.Sort(1, false)) }},
		{"sort_special_idx", "x.sort(dim=1, stable=True)[1]", special, func(x *tensor.Tensor) *tensor.Tensor { return second(x.Sort(1, false)) }},
		{"sort_special_desc_idx", "x.sort(dim=1, descending=True, stable=True)[1]", special, func(x *tensor.Tensor) *tensor.Tensor { return second(x.Sort(1, true)) }},
		{"sort_int", "x.sort(dim=1, stable=True)[1]", ints, func(x *tensor.Tensor) *tensor.Tensor { return second(x.Sort(1, false)) }},
		{"argsort_desc", "x.argsort(dim=0, descending=True)", rnd, func(x *tensor.Tensor) *tensor.Tensor { return x.ArgSort(0, true) }},
		{"topk", "x.topk(3, dim=1)[0]", rnd, func(x *tensor.Tensor) *tensor.Tensor { return first(x.TopK(3, 1, true)) }},
		{"topk_idx", "x.topk(3, dim=1)[1]", rnd, func(x *tensor.Tensor) *tensor.Tensor { return second(x.TopK(3, 1, true)) }},
		{"topk_smallest_idx", "x.topk(2, dim=0, largest=False)[1]", rnd, func(x *tensor.Tensor) *tensor.Tensor { return second(x.TopK(2, 0, false)) }},
		{"cumsum", "x.cumsum(dim=1)", rnd, func(x *tensor.Tensor) *tensor.Tensor { return x.CumSum(1) }},
		{"cumsum_f32", "x.cumsum(dim=-1)", ties, func(x *tensor.Tensor) *tensor.Tensor { return x.CumSum(-1) }},
		{"cumsum_int", "x.cumsum(dim=0)", ints, func(x *tensor.Tensor) *tensor.Tensor { return x.CumSum(0) }},
		{"cumsum_bool", "x.cumsum(dim=1)", bools, func(x *tensor.Tensor) *tensor.Tensor { return x.CumSum(1) }},
		{"flip", "x.flip(0, 1)", rnd, func(x *tensor.Tensor) *tensor.Tensor { return x.Flip(0, 1) }},
		{"repeat", "x.repeat(2, 1, 3)", ints, func(x *tensor.Tensor) *tensor.Tensor { return x.Repeat(2, 1, 3) }},
		{"one_hot", "torch.nn.functional.one_hot(x, 10)", labels, func(x *tensor.Tensor) *tensor.Tensor { return tensor.OneHot(x, 10) }},
		{"one_hot_inferred", "torch.nn.functional.one_hot(x)", labels, func(x *tensor.Tensor) *tensor.Tensor { return tensor.OneHot(x, -1) }},
		{"norm2", "torch.linalg.vector_norm(x)", rnd, func(x *tensor.Tensor) *tensor.Tensor { return x.Norm(2) }},
		{"norm1_dim", "torch.linalg.vector_norm(x, 1, dim=1)", rnd, func(x *tensor.Tensor) *tensor.Tensor { return x.Norm(1, 1) }},
		{"norm3_keepdim", "torch.linalg.vector_norm(x, 3, dim=0, keepdim=True)", rnd, func(x *tensor.Tensor) *tensor.Tensor { return x.NormKeepDim(3, 0) }},
		{"norm_inf", "torch.linalg.vector_norm(x, float('inf'), dim=1)", rnd, func(x *tensor.Tensor) *tensor.Tensor { return x.Norm(math.Inf(1), 1) }},
		{"norm0", "torch.linalg.vector_norm(x, 0, dim=1)", ties, func(x *tensor.Tensor) *tensor.Tensor { return x.Norm(0, 1) }},
		{"any", "x.any(dim=1)", ints, func(x *tensor.Tensor) *tensor.Tensor { return x.Any(1) }},
		{"all", "x.all(dim=0)", ints, func(x *tensor.Tensor) *tensor.Tensor { return x.All(0) }},
		{"all_bool", "x.all(dim=1)", bools, func(x *tensor.Tensor) *tensor.Tensor { return x.All(1) }},
	}
}

const torchMoreOpsScript = `
import os, numpy as np
d = sys.argv[1]
for line in open(os.path.join(d, "cases.txt")):
    name, expr = line.rstrip("\n").split("\t")
    x = torch.from_numpy(np.load(os.path.join(d, name + ".in.npy")))
    np.save(os.path.join(d, name + ".out.npy"), eval(expr).numpy())
print("ok")
`

// TestMoreOpsMatchPyTorch compares every op with PyTorch 1.13 on the
// same inputs: exactly for sorting orders, integers and Bools, within
// 1e-12 (float64) or 1e-6 (float32) for sums and norms. Skipped without
// python3-torch.
func TestMoreOpsMatchPyTorch(t *testing.T) {
	dir := t.TempDir()
	var manifest strings.Builder
	cases := torchMoreOps()
	for _, c := range cases {
		require.NoError(t, c.x.SaveNPY(filepath.Join(dir, c.name+".in.npy")))
		fmt.Fprintf(&manifest, "%s\t%s\n", c.name, c.expr)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cases.txt"), []byte(manifest.String()), 0o644))
	out := pytest.Run(t, "torch", torchMoreOpsScript, dir)
	require.Equal(t, "ok", strings.TrimSpace(out))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := tensor.LoadNPY(filepath.Join(dir, c.name+".out.npy"))
			require.NoError(t, err)
			got := c.f(c.x)
			require.Equal(t, want.DType(), got.DType())
			tol := 1e-12
			if got.DType() == tensor.Float32 {
				tol = 1e-6
			}
			requireClose(t, values(want), want.Shape(), got, tol)
		})
	}
}
