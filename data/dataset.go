package data

import (
	"errors"
	"fmt"
	"slices"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// Dataset is a collection of samples addressed by index, as PyTorch's
// map-style Dataset. Get(i) returns sample i, 0 <= i < Len(), as a slice
// of tensors: typically (input, target), but any number of fields works
// as long as every sample has the same number, with the same dtypes and
// shapes field by field. An index out of range gives an error wrapping
// tensor.ErrIndex.
//
// A Dataset used by a Loader with several workers must be safe for
// concurrent calls of Get.
type Dataset interface {
	// Len returns the number of samples.
	Len() int
	// Get returns sample i.
	Get(i int) ([]*tensor.Tensor, error)
}

// BatchGetter is an optional fast path of a Dataset: GetBatch(indices)
// returns the samples at indices already collated, one tensor per field
// with len(indices) as dimension 0, exactly what stacking the tensors of
// Get would give. Data sets backed by whole tensors implement it with one
// IndexSelect per tensor; the Loader and Collate use it when present.
type BatchGetter interface {
	Dataset
	// GetBatch returns the samples at indices, collated.
	GetBatch(indices []int) ([]*tensor.Tensor, error)
}

// errStopped is returned by collation that a stopping Loader cut short;
// nobody sees it.
var errStopped = errors.New("data: loader stopped")

// Collate returns the samples of ds at indices as batch tensors, one per
// field, each with len(indices) as dimension 0. It calls ds.GetBatch when
// ds is a BatchGetter and otherwise stacks the tensors of ds.Get; samples
// whose fields differ in number, shape, dtype or device give an error
// naming the sample.
func Collate(ds Dataset, indices []int) ([]*tensor.Tensor, error) {
	return collate(ds, indices, nil)
}

// collate is Collate, checking stop (when not nil) between samples.
func collate(ds Dataset, indices []int, stop <-chan struct{}) ([]*tensor.Tensor, error) {
	if s, ok := ds.(*Subset); ok {
		// Map to the parent here rather than in GetBatch so that a slow
		// parent still sees stop.
		parent, err := s.parentIndices(indices)
		if err != nil {
			return nil, err
		}
		return collate(s.ds, parent, stop)
	}
	if bg, ok := ds.(BatchGetter); ok {
		return bg.GetBatch(indices)
	}
	return stackSamples(ds, indices, stop)
}

// stackSamples collates samples fetched one by one with Get.
func stackSamples(ds Dataset, indices []int, stop <-chan struct{}) ([]*tensor.Tensor, error) {
	if len(indices) == 0 {
		return nil, errors.New("data: cannot collate an empty batch")
	}
	var fields [][]*tensor.Tensor
	for k, i := range indices {
		if stop != nil {
			select {
			case <-stop:
				return nil, errStopped
			default:
			}
		}
		s, err := ds.Get(i)
		if err != nil {
			return nil, err
		}
		if k == 0 {
			if len(s) == 0 {
				return nil, fmt.Errorf("data: sample %d has no tensors", i)
			}
			fields = make([][]*tensor.Tensor, len(s))
			for f := range fields {
				fields[f] = make([]*tensor.Tensor, len(indices))
			}
		} else if len(s) != len(fields) {
			return nil, fmt.Errorf("data: sample %d has %d tensors but sample %d has %d", i, len(s), indices[0], len(fields))
		}
		for f, t := range s {
			if t == nil {
				return nil, fmt.Errorf("data: sample %d: tensor %d is nil", i, f)
			}
			if k > 0 {
				first := fields[f][0]
				switch {
				case !slices.Equal(t.Shape(), first.Shape()):
					return nil, fmt.Errorf("data: sample %d: tensor %d has shape %v but sample %d has %v; samples of a batch must have one shape",
						i, f, t.Shape(), indices[0], first.Shape())
				case t.DType() != first.DType():
					return nil, fmt.Errorf("data: sample %d: tensor %d is %v but sample %d is %v", i, f, t.DType(), indices[0], first.DType())
				case t.Device() != first.Device():
					return nil, fmt.Errorf("data: sample %d: tensor %d is on %v but sample %d is on %v", i, f, t.Device(), indices[0], first.Device())
				}
			}
			fields[f][k] = t
		}
	}
	out := make([]*tensor.Tensor, len(fields))
	err := tensor.Catch(func() {
		for f, ts := range fields {
			out[f] = tensor.Stack(ts, 0)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("data: collating samples: %w", err)
	}
	return out, nil
}

// checkIndex returns an error wrapping tensor.ErrIndex unless 0 <= i < n.
func checkIndex(what string, i, n int) error {
	if i < 0 || i >= n {
		return fmt.Errorf("data: %s: index %d is out of range [0, %d): %w", what, i, n, tensor.ErrIndex)
	}
	return nil
}

// checkIndices checks every index of a batch.
func checkIndices(what string, indices []int, n int) error {
	if len(indices) == 0 {
		return fmt.Errorf("data: %s: cannot collate an empty batch", what)
	}
	for _, i := range indices {
		if err := checkIndex(what, i, n); err != nil {
			return err
		}
	}
	return nil
}

// indexTensor returns indices as a 1-D Int64 tensor on dev.
func indexTensor(indices []int, dev device.Device) *tensor.Tensor {
	idx := make([]int64, len(indices))
	for k, i := range indices {
		idx[k] = int64(i)
	}
	return tensor.FromSlice(idx).To(dev)
}

// Tensors is the Dataset built by TensorDataset: sample i is the i-th
// entry along dimension 0 of each of its tensors.
type Tensors struct {
	ts []*tensor.Tensor
	n  int
}

// TensorDataset returns a data set whose sample i is (t[0][i], t[1][i],
// ...), as PyTorch's TensorDataset: TensorDataset(x, y) with x of shape
// [N 784] and y of shape [N] gives samples of shapes [784] and []. Every
// tensor must have at least one dimension and the same length N along
// dimension 0. The tensors may live on any device; batches are then built
// there.
func TensorDataset(tensors ...*tensor.Tensor) (*Tensors, error) {
	if len(tensors) == 0 {
		return nil, errors.New("data: TensorDataset needs at least one tensor")
	}
	n := -1
	for k, t := range tensors {
		if t == nil {
			return nil, fmt.Errorf("data: TensorDataset: tensor %d is nil", k)
		}
		if t.Dim() == 0 {
			return nil, fmt.Errorf("data: TensorDataset: tensor %d is 0-dimensional; samples are indexed along dimension 0", k)
		}
		if n < 0 {
			n = t.Size(0)
		} else if t.Size(0) != n {
			return nil, fmt.Errorf("data: TensorDataset: size mismatch between tensors: tensor 0 has shape %v (%d samples) but tensor %d has shape %v (%d samples)",
				tensors[0].Shape(), n, k, t.Shape(), t.Size(0))
		}
	}
	return &Tensors{ts: slices.Clone(tensors), n: n}, nil
}

// Len returns the length of the tensors along dimension 0.
func (d *Tensors) Len() int { return d.n }

// Tensors returns the tensors the data set was built from.
func (d *Tensors) Tensors() []*tensor.Tensor { return slices.Clone(d.ts) }

// Get returns views of entry i of each tensor; they share memory with the
// data set's tensors.
func (d *Tensors) Get(i int) ([]*tensor.Tensor, error) {
	if err := checkIndex("TensorDataset.Get", i, d.n); err != nil {
		return nil, err
	}
	out := make([]*tensor.Tensor, len(d.ts))
	for k, t := range d.ts {
		out[k] = t.Select(0, i)
	}
	return out, nil
}

// GetBatch returns the entries at indices of each tensor, with one
// IndexSelect per tensor.
func (d *Tensors) GetBatch(indices []int) ([]*tensor.Tensor, error) {
	if err := checkIndices("TensorDataset.GetBatch", indices, d.n); err != nil {
		return nil, err
	}
	out := make([]*tensor.Tensor, len(d.ts))
	var idx *tensor.Tensor
	err := tensor.Catch(func() {
		for k, t := range d.ts {
			if idx == nil || idx.Device() != t.Device() {
				idx = indexTensor(indices, t.Device())
			}
			out[k] = t.IndexSelect(0, idx)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("data: TensorDataset.GetBatch: %w", err)
	}
	return out, nil
}

// Subset is the part of a data set at a list of indices, as PyTorch's
// Subset: sample i of the subset is sample Indices()[i] of the parent.
// RandomSplit returns Subsets.
type Subset struct {
	ds      Dataset
	indices []int
}

// NewSubset returns the subset of ds at indices, which must lie in
// [0, ds.Len()); they may repeat. The slice is copied.
func NewSubset(ds Dataset, indices []int) (*Subset, error) {
	if ds == nil {
		return nil, errors.New("data: NewSubset: the data set is nil")
	}
	n := ds.Len()
	for k, i := range indices {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("data: NewSubset: index %d (position %d) is out of range [0, %d): %w", i, k, n, tensor.ErrIndex)
		}
	}
	return &Subset{ds: ds, indices: slices.Clone(indices)}, nil
}

// Len returns the number of indices.
func (s *Subset) Len() int { return len(s.indices) }

// Get returns sample Indices()[i] of the parent data set.
func (s *Subset) Get(i int) ([]*tensor.Tensor, error) {
	if err := checkIndex("Subset.Get", i, len(s.indices)); err != nil {
		return nil, err
	}
	return s.ds.Get(s.indices[i])
}

// GetBatch maps indices to the parent's and collates there, so a subset
// of a BatchGetter keeps the fast path.
func (s *Subset) GetBatch(indices []int) ([]*tensor.Tensor, error) {
	return Collate(s, indices)
}

// parentIndices maps indices of s to indices of its parent.
func (s *Subset) parentIndices(indices []int) ([]int, error) {
	if err := checkIndices("Subset.GetBatch", indices, len(s.indices)); err != nil {
		return nil, err
	}
	parent := make([]int, len(indices))
	for k, i := range indices {
		parent[k] = s.indices[i]
	}
	return parent, nil
}

// Dataset returns the parent data set.
func (s *Subset) Dataset() Dataset { return s.ds }

// Indices returns a copy of the subset's indices into the parent.
func (s *Subset) Indices() []int { return slices.Clone(s.indices) }
