package data

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/tensor"
)

// lengths returns the lengths of subsets.
func lengths(parts []*Subset) []int {
	out := make([]int, len(parts))
	for i, p := range parts {
		out[i] = p.Len()
	}
	return out
}

// requirePartition checks that parts are disjoint and cover 0..n-1.
func requirePartition(t *testing.T, parts []*Subset, n int) {
	t.Helper()
	seen := make([]int, n)
	for _, p := range parts {
		for _, i := range p.Indices() {
			require.True(t, i >= 0 && i < n, "index %d out of range", i)
			seen[i]++
		}
	}
	for i, c := range seen {
		require.Equal(t, 1, c, "sample %d appears %d times", i, c)
	}
}

func TestRandomSplitFractions(t *testing.T) {
	// The expected lengths are what torch.utils.data.random_split gives.
	tests := []struct {
		n         int
		fractions []float64
		want      []int
	}{
		{10, []float64{0.5, 0.5}, []int{5, 5}},
		{11, []float64{0.5, 0.5}, []int{6, 5}},
		{10, []float64{0.3, 0.3, 0.4}, []int{3, 3, 4}},
		{7, []float64{0.7, 0.2, 0.1}, []int{5, 2, 0}},
		{10, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, []int{4, 3, 3}},
		{60000, []float64{0.8, 0.1, 0.1}, []int{48000, 6000, 6000}},
		{100, []float64{0.29, 0.71}, []int{29, 71}}, // floor(28.999999999999996) = 28, remainder to part 0
		{3, []float64{1}, []int{3}},
		{0, []float64{0.5, 0.5}, []int{0, 0}},
	}
	for _, tc := range tests {
		t.Run("", func(t *testing.T) {
			_, _, ds := seqTensors(t, tc.n)
			parts, err := RandomSplit(ds, tc.fractions, tensor.NewGenerator(1))
			require.NoError(t, err)
			require.Equal(t, tc.want, lengths(parts), "n=%d fractions %v", tc.n, tc.fractions)
			requirePartition(t, parts, tc.n)
		})
	}
}

func TestRandomSplitLengths(t *testing.T) {
	_, _, ds := seqTensors(t, 10)
	parts, err := RandomSplit(ds, []int{3, 0, 7}, tensor.NewGenerator(1))
	require.NoError(t, err)
	require.Equal(t, []int{3, 0, 7}, lengths(parts))
	requirePartition(t, parts, 10)
	for _, p := range parts {
		require.Same(t, Dataset(ds), p.Dataset())
	}

	type myLen int // named integer types are lengths too
	parts, err = RandomSplit(ds, []myLen{5, 5}, nil)
	require.NoError(t, err)
	require.Equal(t, []int{5, 5}, lengths(parts))
}

func TestRandomSplitErrors(t *testing.T) {
	_, _, ds := seqTensors(t, 10)
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"lengths too short", func() error { _, err := RandomSplit(ds, []int{3, 6}, nil); return err }, "add up to 9 but the data set has 10"},
		{"lengths too long", func() error { _, err := RandomSplit(ds, []int{5, 6}, nil); return err }, "add up to 11"},
		{"negative length", func() error { _, err := RandomSplit(ds, []int{-1, 11}, nil); return err }, "negative"},
		{"no sizes", func() error { _, err := RandomSplit(ds, []int{}, nil); return err }, "at least one size"},
		{"fractions below 1", func() error { _, err := RandomSplit(ds, []float64{0.5, 0.4}, nil); return err }, "not 1"},
		{"fractions above 1", func() error { _, err := RandomSplit(ds, []float64{0.7, 0.4}, nil); return err }, "not 1"},
		{"fraction > 1", func() error { _, err := RandomSplit(ds, []float64{1.5, -0.5}, nil); return err }, "outside [0, 1]"},
		{"NaN", func() error { _, err := RandomSplit(ds, []float64{math.NaN(), 1}, nil); return err }, "outside [0, 1]"},
		{"nil data set", func() error { _, err := RandomSplit(nil, []int{1}, nil); return err }, "nil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorContains(t, tc.run(), tc.want)
		})
	}
}

func TestRandomSplitReproducible(t *testing.T) {
	_, _, ds := seqTensors(t, 100)
	split := func(gen *tensor.Generator) [][]int {
		parts, err := RandomSplit(ds, []float64{0.6, 0.2, 0.2}, gen)
		require.NoError(t, err)
		requirePartition(t, parts, 100)
		out := make([][]int, len(parts))
		for i, p := range parts {
			out[i] = p.Indices()
		}
		return out
	}
	a := split(tensor.NewGenerator(42))
	require.Equal(t, a, split(tensor.NewGenerator(42)), "same seed, same split")
	require.NotEqual(t, a, split(tensor.NewGenerator(43)), "another seed, another split")
	require.False(t, slices.IsSorted(slices.Concat(a...)), "the split is shuffled")

	// A nil generator draws from the default one, which ManualSeed resets.
	tensor.ManualSeed(7)
	b := split(nil)
	tensor.ManualSeed(7)
	require.Equal(t, b, split(nil))

	// The subsets index the data set's samples.
	parts, err := RandomSplit(ds, []int{10, 90}, tensor.NewGenerator(3))
	require.NoError(t, err)
	for k, i := range parts[0].Indices() {
		s, err := parts[0].Get(k)
		require.NoError(t, err)
		require.Equal(t, []int64{int64(i)}, s[1].Int64s())
	}
}
