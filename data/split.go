package data

import (
	"errors"
	"fmt"
	"math"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// SplitSizes are the sizes RandomSplit accepts: integer lengths or
// floating-point fractions.
type SplitSizes interface {
	~int | ~float64
}

// RandomSplit splits ds into non-overlapping subsets of random samples
// that together cover it, as torch.utils.data.random_split:
//
//	parts, err := data.RandomSplit(ds, []float64{0.8, 0.1, 0.1}, tensor.NewGenerator(42))
//	train, val, test := parts[0], parts[1], parts[2]
//
// Integer sizes are lengths and must add up to ds.Len(). Floating-point
// sizes are fractions in [0, 1] that must add up to 1; as in PyTorch,
// each part gets floor(fraction*Len) samples and the samples left over
// are handed out one each to the parts in order, starting from the first.
//
// The samples are assigned by one permutation of 0..Len-1 drawn from gen
// (the default generator when gen is nil): part 0 gets the permutation's
// first entries, part 1 the next ones, and so on. The same seed gives the
// same split.
func RandomSplit[T SplitSizes](ds Dataset, sizes []T, gen *tensor.Generator) ([]*Subset, error) {
	if ds == nil {
		return nil, errors.New("data: RandomSplit: the data set is nil")
	}
	lengths, err := splitLengths(ds.Len(), sizes)
	if err != nil {
		return nil, err
	}
	if gen == nil {
		gen = tensor.DefaultGenerator()
	}
	perm, err := permutation(ds.Len(), gen)
	if err != nil {
		return nil, fmt.Errorf("data: RandomSplit: %w", err)
	}
	out := make([]*Subset, len(lengths))
	at := 0
	for k, n := range lengths {
		out[k] = &Subset{ds: ds, indices: perm[at : at+n : at+n]}
		at += n
	}
	return out, nil
}

// splitLengths turns RandomSplit's sizes into lengths that add up to n.
func splitLengths[T SplitSizes](n int, sizes []T) ([]int, error) {
	if len(sizes) == 0 {
		return nil, errors.New("data: RandomSplit: needs at least one size")
	}
	lengths := make([]int, len(sizes))
	var one T = 1
	if isFloat := one/2 != 0; isFloat {
		sum := 0.0
		for k, s := range sizes {
			f := float64(s)
			if math.IsNaN(f) || f < 0 || f > 1 {
				return nil, fmt.Errorf("data: RandomSplit: fraction %v (position %d) is outside [0, 1]", f, k)
			}
			sum += f
			lengths[k] = int(math.Floor(float64(n) * f))
		}
		if math.Abs(sum-1) > 1e-9 {
			return nil, fmt.Errorf("data: RandomSplit: fractions %v add up to %v, not 1", sizes, sum)
		}
		left := n
		for _, l := range lengths {
			left -= l
		}
		for i := range left {
			lengths[i%len(lengths)]++
		}
		return lengths, nil
	}
	sum := 0
	for k, s := range sizes {
		l := int(s)
		if l < 0 {
			return nil, fmt.Errorf("data: RandomSplit: length %d (position %d) is negative", l, k)
		}
		lengths[k] = l
		sum += l
	}
	if sum != n {
		return nil, fmt.Errorf("data: RandomSplit: lengths %v add up to %d but the data set has %d samples", sizes, sum, n)
	}
	return lengths, nil
}

// permutation returns a random permutation of 0..n-1 drawn from gen.
func permutation(n int, gen *tensor.Generator) ([]int, error) {
	var p []int64
	err := tensor.Catch(func() {
		p = tensor.On(device.CPU()).WithGenerator(gen).RandPerm(n).Int64s()
	})
	if err != nil {
		return nil, err
	}
	out := make([]int, n)
	for i, v := range p {
		out[i] = int(v)
	}
	return out, nil
}
