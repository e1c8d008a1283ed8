package npy

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/pytest"

	"github.com/nabla-go/nabla/device"
)

// interopScript checks the go_*.npy files in argv[1] with np.load and
// writes py_*.npy files there with NumPy, in several versions, byte orders
// and memory orders.
const interopScript = `
import os
import numpy as np
d = sys.argv[1]

def expected():
    return {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
        "f64": np.array([-1.5, np.inf, 1e300]),
        "i64": np.array([[3], [-7], [2**62]], dtype=np.int64),
        "bool": np.array([True, False, True]),
        "u8": np.arange(256, dtype=np.uint8).reshape(4, 4, 16),
        "scalar": np.array(0.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float64),
    }

for name, want in expected().items():
    got = np.load(os.path.join(d, "go_" + name + ".npy"), allow_pickle=False)
    assert got.dtype == want.dtype and got.shape == want.shape, (name, got.dtype, got.shape)
    assert np.array_equal(got, want), (name, got, want)
    np.save(os.path.join(d, "py_" + name + ".npy"), want)

want = expected()
np.save(os.path.join(d, "py_be.npy"), want["f64"].astype(">f8"))
np.save(os.path.join(d, "py_fortran.npy"), np.asfortranarray(want["u8"]))
np.save(os.path.join(d, "py_fortran_be.npy"), np.asfortranarray(want["i64"].reshape(1, 3).astype(">i8")))
for v in [(1, 0), (2, 0), (3, 0)]:
    with open(os.path.join(d, "py_v%d.npy" % v[0]), "wb") as f:
        np.lib.format.write_array(f, want["f32"], version=v)
print("ok")
`

func interopArrays() map[string]Array {
	u8 := make([]byte, 256)
	for i := range u8 {
		u8[i] = byte(i)
	}
	return map[string]Array{
		"f32":    {device.Float32, []int{2, 3}, f32bytes(0, 0.25, 0.5, 0.75, 1, 1.25)},
		"f64":    {device.Float64, []int{3}, f64bytes(-1.5, math.Inf(1), 1e300)},
		"i64":    {device.Int64, []int{3, 1}, i64bytes(3, -7, 1<<62)},
		"bool":   {device.Bool, []int{3}, []byte{1, 0, 1}},
		"u8":     {device.Uint8, []int{4, 4, 16}, u8},
		"scalar": {device.Float32, []int{}, f32bytes(0.5)},
		"empty":  {device.Float64, []int{0, 4}, []byte{}},
	}
}

func TestInteropNumPy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Python")
	}
	dir := t.TempDir()
	arrays := interopArrays()
	for name, a := range arrays {
		require.NoError(t, WriteFile(filepath.Join(dir, "go_"+name+".npy"), a))
	}
	out := pytest.Run(t, "numpy", interopScript, dir)
	require.Contains(t, out, "ok")

	for name, want := range arrays {
		got, err := ReadFile(filepath.Join(dir, "py_"+name+".npy"))
		require.NoError(t, err, name)
		require.Equal(t, want, got, name)
	}
	for file, want := range map[string]Array{
		"py_be.npy":         arrays["f64"],
		"py_fortran.npy":    arrays["u8"],
		"py_fortran_be.npy": {device.Int64, []int{1, 3}, i64bytes(3, -7, 1<<62)},
		"py_v1.npy":         arrays["f32"],
		"py_v2.npy":         arrays["f32"],
		"py_v3.npy":         arrays["f32"],
	} {
		got, err := ReadFile(filepath.Join(dir, file))
		require.NoError(t, err, file)
		require.Equal(t, want, got, file)
	}
}
