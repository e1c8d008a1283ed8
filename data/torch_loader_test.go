package data

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/pytest"
	"github.com/nabla-go/nabla/tensor"
)

// loaderRef is testdata/torch_loader.json, printed by
// testdata/torch_loader.py.
type loaderRef struct {
	Seed   uint64    `json:"seed"`
	Epochs [][]int   `json:"epochs"`
	Parts  [][]int   `json:"parts"`
	Then   []float32 `json:"then"`
}

// TestLoaderMatchesTorch checks that after tensor.ManualSeed the loader
// visits the samples in PyTorch's DataLoader's order, with the default
// generator or one of its own, leaves the generator where PyTorch's is
// (a loader that does not shuffle draws too), and that RandomSplit
// splits as random_split.
func TestLoaderMatchesTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/torch_loader.json")
	require.NoError(t, err)
	var ref map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &ref))
	get := func(name string) loaderRef {
		var r loaderRef
		require.NoError(t, json.Unmarshal(ref[name], &r), name)
		return r
	}
	ds, err := TensorDataset(tensor.Of(tensor.Int64).Arange(0, 10, 1))
	require.NoError(t, err)
	run := func(l *Loader, n int) [][]int {
		var out [][]int
		for range n {
			var order []int
			for _, b := range epoch(t, l) {
				order = append(order, b.Indices...)
			}
			out = append(out, order)
		}
		return out
	}

	r := get("shuffle")
	tensor.ManualSeed(r.Seed)
	l, err := NewLoader(ds, BatchSize(3), Shuffle())
	require.NoError(t, err)
	require.Equal(t, r.Epochs, run(l, len(r.Epochs)), "DataLoader(shuffle=True)")
	require.Equal(t, r.Then, tensor.Rand(2).Float32s(), "the default generator after the epochs")

	r = get("shuffle_generator")
	tensor.ManualSeed(1)
	g := tensor.NewGenerator(r.Seed)
	l, err = NewLoader(ds, BatchSize(4), ShuffleWith(g))
	require.NoError(t, err)
	require.Equal(t, r.Epochs, run(l, len(r.Epochs)), "DataLoader(shuffle=True, generator=g)")
	require.Equal(t, r.Then, tensor.Options{}.WithGenerator(g).Rand(2).Float32s(), "g after the epochs")

	r = get("no_shuffle")
	tensor.ManualSeed(r.Seed)
	l, err = NewLoader(ds, BatchSize(4))
	require.NoError(t, err)
	require.Equal(t, r.Epochs, run(l, len(r.Epochs)))
	require.Equal(t, r.Then, tensor.Rand(2).Float32s(), "a loader that does not shuffle still draws its worker seed")

	indices := func(parts []*Subset) [][]int {
		var out [][]int
		for _, p := range parts {
			out = append(out, p.Indices())
		}
		return out
	}
	r = get("random_split")
	tensor.ManualSeed(r.Seed)
	parts, err := RandomSplit(ds, []int{6, 4}, nil)
	require.NoError(t, err)
	require.Equal(t, r.Parts, indices(parts), "random_split(ds, [6, 4])")
	require.Equal(t, r.Then, tensor.Rand(2).Float32s())

	r = get("random_split_generator")
	parts, err = RandomSplit(ds, []float64{0.7, 0.3}, tensor.NewGenerator(r.Seed))
	require.NoError(t, err)
	require.Equal(t, r.Parts, indices(parts), "random_split(ds, [0.7, 0.3], generator)")
}

// TestLoaderReferenceRegenerate reruns testdata/torch_loader.py where
// PyTorch is installed (it skips elsewhere) and checks that it prints the
// committed testdata/torch_loader.json.
func TestLoaderReferenceRegenerate(t *testing.T) {
	out := pytest.RunFile(t, "testdata/torch_loader.py")
	want, err := os.ReadFile("testdata/torch_loader.json")
	require.NoError(t, err)
	require.Equal(t, string(want), out)
}
