package nn

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/safetensors"
)

// TestSaveIsAtomic checks that a Save whose writing fails part-way leaves
// the previous file at the path untouched and no temporary file behind.
func TestSaveIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	old := Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
	require.NoError(t, Save(path, old))
	want, err := os.ReadFile(path)
	require.NoError(t, err)

	boom := errors.New("disk full")
	failing := func(w io.Writer, ts []safetensors.Tensor, meta map[string]string) error {
		// Write a good part of the new file, then fail.
		if err := safetensors.Write(w, ts, meta); err != nil {
			return err
		}
		return boom
	}
	err = save(path, Sequential(Linear(3, 8), ReLU(), Linear(8, 2)), failing)
	require.ErrorIs(t, err, boom)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, want, got, "the old file must survive a failed Save")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file may be left behind")

	// The old file still loads.
	require.NoError(t, Load(path, Sequential(Linear(3, 4), ReLU(), Linear(4, 2))))
}
