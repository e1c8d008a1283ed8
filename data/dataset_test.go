package data

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

// seqTensors returns x of shape [n 2] with x[i] = (i, 10i) and y = i as
// Int64, and the TensorDataset of the two.
func seqTensors(t testing.TB, n int) (x, y *tensor.Tensor, ds *Tensors) {
	t.Helper()
	xs := make([]float32, 2*n)
	ys := make([]int64, n)
	for i := range n {
		xs[2*i], xs[2*i+1] = float32(i), float32(10*i)
		ys[i] = int64(i)
	}
	x, y = tensor.FromSlice(xs, n, 2), tensor.FromSlice(ys, n)
	ds, err := TensorDataset(x, y)
	require.NoError(t, err)
	return x, y, ds
}

// sampleDataset is a Dataset without the BatchGetter fast path: sample i
// is ([i, -i] Float32, i Int64). It counts calls, can sleep in Get, fail
// at one index, and hand out a bad shape at another.
type sampleDataset struct {
	n        int
	sleep    time.Duration
	failAt   int // -1: never
	badAt    int // -1: never; sample with shape [3] instead of [2]
	panicAt  int // -1: never
	panicVal any
	gets     atomic.Int64
	onGet    func(i int)
}

func newSampleDataset(n int) *sampleDataset {
	return &sampleDataset{n: n, failAt: -1, badAt: -1, panicAt: -1}
}

var errSample = errors.New("sample failed")

func (d *sampleDataset) Len() int { return d.n }

func (d *sampleDataset) Get(i int) ([]*tensor.Tensor, error) {
	d.gets.Add(1)
	if d.onGet != nil {
		d.onGet(i)
	}
	if d.sleep > 0 {
		time.Sleep(d.sleep)
	}
	if err := checkIndex("sampleDataset", i, d.n); err != nil {
		return nil, err
	}
	switch i {
	case d.failAt:
		return nil, fmt.Errorf("sample %d: %w", i, errSample)
	case d.panicAt:
		panic(d.panicVal)
	case d.badAt:
		return []*tensor.Tensor{tensor.FromSlice([]float32{1, 2, 3}), tensor.Scalar(int64(i))}, nil
	}
	return []*tensor.Tensor{tensor.FromSlice([]float32{float32(i), -float32(i)}), tensor.Scalar(int64(i))}, nil
}

// batchSpy wraps a BatchGetter and counts GetBatch calls.
type batchSpy struct {
	BatchGetter
	batches atomic.Int64
}

func (s *batchSpy) GetBatch(indices []int) ([]*tensor.Tensor, error) {
	s.batches.Add(1)
	return s.BatchGetter.GetBatch(indices)
}

func TestTensorDatasetErrors(t *testing.T) {
	tests := []struct {
		name    string
		tensors []*tensor.Tensor
		want    string
	}{
		{"none", nil, "at least one tensor"},
		{"nil tensor", []*tensor.Tensor{tensor.Zeros(3), nil}, "tensor 1 is nil"},
		{"scalar", []*tensor.Tensor{tensor.Scalar(float32(1))}, "0-dimensional"},
		{"length mismatch", []*tensor.Tensor{tensor.Zeros(4, 2), tensor.Zeros(3)}, "size mismatch between tensors: tensor 0 has shape [4 2] (4 samples) but tensor 1 has shape [3] (3 samples)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := TensorDataset(tc.tensors...)
			require.Nil(t, ds)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestTensorDatasetGet(t *testing.T) {
	x, y, ds := seqTensors(t, 5)
	require.Equal(t, 5, ds.Len())
	require.Len(t, ds.Tensors(), 2)

	s, err := ds.Get(3)
	require.NoError(t, err)
	require.Len(t, s, 2)
	require.Equal(t, []int{2}, s[0].Shape())
	require.Equal(t, []float32{3, 30}, s[0].Float32s())
	require.Empty(t, s[1].Shape())
	require.Equal(t, []int64{3}, s[1].Int64s())
	require.True(t, s[0].SharesMemory(x), "Get returns views")

	for _, i := range []int{-1, 5, 100} {
		_, err := ds.Get(i)
		require.ErrorIs(t, err, tensor.ErrIndex, "index %d", i)
	}

	b, err := ds.GetBatch([]int{4, 0, 4})
	require.NoError(t, err)
	require.Equal(t, []int{3, 2}, b[0].Shape())
	require.Equal(t, []float32{4, 40, 0, 0, 4, 40}, b[0].Float32s())
	require.Equal(t, []int64{4, 0, 4}, b[1].Int64s())
	require.Equal(t, y.DType(), b[1].DType())

	for _, bad := range [][]int{nil, {0, 5}, {-1}} {
		_, err := ds.GetBatch(bad)
		require.Error(t, err, "indices %v", bad)
	}
}

func TestCollate(t *testing.T) {
	_, _, fast := seqTensors(t, 6)
	tests := []struct {
		name    string
		ds      Dataset
		indices []int
		wantX   []float32
		wantY   []int64
	}{
		{"fast path", fast, []int{5, 1}, []float32{5, 50, 1, 10}, []int64{5, 1}},
		{"stacking", newSampleDataset(6), []int{5, 1}, []float32{5, -5, 1, -1}, []int64{5, 1}},
		{"subset of fast", &Subset{ds: fast, indices: []int{3, 4, 5}}, []int{2, 0}, []float32{5, 50, 3, 30}, []int64{5, 3}},
		{"subset of stacking", &Subset{ds: newSampleDataset(6), indices: []int{3, 4, 5}}, []int{2, 0}, []float32{5, -5, 3, -3}, []int64{5, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Collate(tc.ds, tc.indices)
			require.NoError(t, err)
			require.Len(t, b, 2)
			require.Equal(t, []int{len(tc.indices), 2}, b[0].Shape())
			require.Equal(t, tc.wantX, b[0].Float32s())
			require.Equal(t, []int{len(tc.indices)}, b[1].Shape())
			require.Equal(t, tc.wantY, b[1].Int64s())
		})
	}
}

func TestCollateErrors(t *testing.T) {
	bad := newSampleDataset(6)
	bad.badAt = 4
	failing := newSampleDataset(6)
	failing.failAt = 2
	tests := []struct {
		name    string
		ds      Dataset
		indices []int
		want    string
	}{
		{"shape mismatch", bad, []int{1, 4}, "sample 4: tensor 0 has shape [3] but sample 1 has [2]"},
		{"get fails", failing, []int{1, 2}, "sample 2: sample failed"},
		{"out of range", newSampleDataset(3), []int{0, 3}, "out of range"},
		{"empty", newSampleDataset(3), nil, "empty batch"},
		{"field count", &ragged{}, []int{0, 1}, "sample 1 has 1 tensors but sample 0 has 2"},
		{"dtype", &mixedDType{}, []int{0, 1}, "sample 1: tensor 0 is float64 but sample 0 is float32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Collate(tc.ds, tc.indices)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// ragged has samples with different numbers of tensors.
type ragged struct{}

func (*ragged) Len() int { return 2 }
func (*ragged) Get(i int) ([]*tensor.Tensor, error) {
	if i == 0 {
		return []*tensor.Tensor{tensor.Zeros(1), tensor.Zeros(1)}, nil
	}
	return []*tensor.Tensor{tensor.Zeros(1)}, nil
}

// mixedDType has samples of different dtypes.
type mixedDType struct{}

func (*mixedDType) Len() int { return 2 }
func (*mixedDType) Get(i int) ([]*tensor.Tensor, error) {
	if i == 0 {
		return []*tensor.Tensor{tensor.Zeros(2)}, nil
	}
	return []*tensor.Tensor{tensor.Of(tensor.Float64).Zeros(2)}, nil
}

func TestSubset(t *testing.T) {
	_, _, ds := seqTensors(t, 10)
	spy := &batchSpy{BatchGetter: ds}

	_, err := NewSubset(nil, []int{0})
	require.Error(t, err)
	_, err = NewSubset(ds, []int{0, 10})
	require.ErrorIs(t, err, tensor.ErrIndex)
	_, err = NewSubset(ds, []int{-1})
	require.ErrorIs(t, err, tensor.ErrIndex)

	idx := []int{7, 2, 2, 9}
	s, err := NewSubset(spy, idx)
	require.NoError(t, err)
	idx[0] = 0 // NewSubset copied the slice
	require.Equal(t, 4, s.Len())
	require.Equal(t, []int{7, 2, 2, 9}, s.Indices())
	require.Same(t, spy, s.Dataset())

	got, err := s.Get(0)
	require.NoError(t, err)
	require.Equal(t, []float32{7, 70}, got[0].Float32s())
	_, err = s.Get(4)
	require.ErrorIs(t, err, tensor.ErrIndex)

	b, err := s.GetBatch([]int{3, 1})
	require.NoError(t, err)
	require.Equal(t, []int64{9, 2}, b[1].Int64s())
	require.EqualValues(t, 1, spy.batches.Load(), "a subset of a BatchGetter collates with the parent's GetBatch")

	// A subset of a subset still reaches the fast path.
	s2, err := NewSubset(s, []int{3, 0})
	require.NoError(t, err)
	b, err = Collate(s2, []int{0, 1})
	require.NoError(t, err)
	require.Equal(t, []int64{9, 7}, b[1].Int64s())
	require.EqualValues(t, 2, spy.batches.Load())
}
