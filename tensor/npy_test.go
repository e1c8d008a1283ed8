package tensor_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/pytest"

	"github.com/nabla-go/nabla/internal/npy"
	"github.com/nabla-go/nabla/tensor"
)

// npyCases are tensors of every dtype and several shapes and layouts.
func npyCases() map[string]*tensor.Tensor {
	nan := math.NaN()
	return map[string]*tensor.Tensor{
		"f32":        tensor.Arange(0, 6, 1).Div(4).Reshape(2, 3),
		"f32_t":      tensor.Arange(0, 6, 1).Reshape(2, 3).T(), // not contiguous
		"f32_scalar": tensor.Scalar(float32(-2.5)),
		"f32_empty":  tensor.Zeros(0, 3),
		"f64":        tensor.FromSlice([]float64{-1.5, math.Inf(1), 1e300, nan, math.Copysign(0, -1), 5e-324}),
		"f64_3d":     seq(2, 3, 4).Sin(),
		"i64":        tensor.FromSlice([]int64{3, -7, 1 << 62, math.MinInt64}, 4, 1),
		"i64_slice":  tensor.FromSlice([]int64{0, 1, 2, 3, 4, 5, 6, 7}).Slice(0, 1, 8, 3),
		"bool":       tensor.FromSlice([]bool{true, false, false, true, true, false}, 3, 2),
		"bool_empty": tensor.Of(tensor.Bool).Zeros(0),
		"u8":         tensor.FromSlice([]uint8{0, 1, 127, 128, 255}),
		"u8_expand":  tensor.FromSlice([]uint8{9}).Expand(2, 3),
	}
}

// requireSameTensor checks dtype, shape and values (NaN equal to NaN,
// signed zeros distinguished).
func requireSameTensor(t *testing.T, want, got *tensor.Tensor, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, want.DType(), got.DType(), msgAndArgs...)
	require.Equal(t, want.Shape(), got.Shape(), msgAndArgs...)
	switch want.DType() {
	case tensor.Int64:
		require.Equal(t, want.Int64s(), got.Int64s(), msgAndArgs...)
	case tensor.Bool:
		require.Equal(t, want.Bools(), got.Bools(), msgAndArgs...)
	case tensor.Uint8:
		require.Equal(t, want.Uint8s(), got.Uint8s(), msgAndArgs...)
	default:
		w, g := values(want), values(got)
		require.Len(t, g, len(w), msgAndArgs...)
		for i := range w {
			require.Equal(t, math.Float64bits(w[i]), math.Float64bits(g[i]), "element %d: %v vs %v %v", i, w[i], g[i], msgAndArgs)
		}
	}
}

func TestNPYRoundTrip(t *testing.T) {
	for name, x := range npyCases() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, x.WriteNPY(&buf))
			require.True(t, bytes.HasPrefix(buf.Bytes(), []byte("\x93NUMPY\x01\x00")))
			require.Zero(t, (buf.Len()-x.Numel()*x.DType().Size())%64, "the data starts at a multiple of 64")
			y, err := tensor.ReadNPY(&buf)
			require.NoError(t, err)
			require.Zero(t, buf.Len(), "ReadNPY consumes exactly one array")
			requireSameTensor(t, x, y)
			require.True(t, y.IsContiguous())
			require.True(t, y.Device().IsCPU())

			path := filepath.Join(t.TempDir(), name+".npy")
			require.NoError(t, x.SaveNPY(path))
			z, err := tensor.LoadNPY(path)
			require.NoError(t, err)
			requireSameTensor(t, x, z)
		})
	}
}

func TestNPYStream(t *testing.T) {
	// Several arrays one after the other in one stream.
	var buf bytes.Buffer
	a, b := seq32(2, 2), tensor.FromSlice([]int64{7, 8, 9})
	require.NoError(t, a.WriteNPY(&buf))
	require.NoError(t, b.WriteNPY(&buf))
	ra, err := tensor.ReadNPY(&buf)
	require.NoError(t, err)
	rb, err := tensor.ReadNPY(&buf)
	require.NoError(t, err)
	requireSameTensor(t, a, ra)
	requireSameTensor(t, b, rb)
	_, err = tensor.ReadNPY(&buf)
	require.Error(t, err, "nothing left")
}

func TestNPYHeader(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, tensor.FromSlice([]float32{1, 2, 3}).WriteNPY(&buf))
	require.Contains(t, buf.String(), "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }")
	buf.Reset()
	require.NoError(t, tensor.Scalar(int64(1)).WriteNPY(&buf))
	require.Contains(t, buf.String(), "{'descr': '<i8', 'fortran_order': False, 'shape': (), }")
	buf.Reset()
	require.NoError(t, tensor.Of(tensor.Bool).Zeros(2, 0, 4).WriteNPY(&buf))
	require.Contains(t, buf.String(), "'descr': '|b1'")
	require.Contains(t, buf.String(), "'shape': (2, 0, 4)")
}

func TestNPYErrors(t *testing.T) {
	var good bytes.Buffer
	require.NoError(t, seq32(4, 4).WriteNPY(&good))
	data := good.Bytes()

	_, err := tensor.ReadNPY(bytes.NewReader(data[:len(data)-3]))
	require.ErrorIs(t, err, npy.ErrInvalid, "truncated data")
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	_, err = tensor.ReadNPY(bytes.NewReader(data[:20]))
	require.ErrorIs(t, err, npy.ErrInvalid, "truncated header")
	_, err = tensor.ReadNPY(bytes.NewReader(nil))
	require.Error(t, err)
	bad := append([]byte("\x93NUMPX"), data[6:]...)
	_, err = tensor.ReadNPY(bytes.NewReader(bad))
	require.ErrorIs(t, err, npy.ErrInvalid, "bad magic")
	i4 := bytes.Replace(append([]byte(nil), data...), []byte("'<f4'"), []byte("'<i4'"), 1)
	_, err = tensor.ReadNPY(bytes.NewReader(i4))
	require.ErrorIs(t, err, npy.ErrUnsupportedDType)

	_, err = tensor.LoadNPY(filepath.Join(t.TempDir(), "missing.npy"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Error(t, seq(2).SaveNPY(filepath.Join(t.TempDir(), "no", "such", "dir", "x.npy")))

	failing := failingWriter{}
	require.Error(t, seq(2).WriteNPY(failing))
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// FuzzReadNPY feeds arbitrary bytes to ReadNPY: it must never panic, and
// whatever it accepts must survive a write and a second read unchanged.
func FuzzReadNPY(f *testing.F) {
	for _, x := range npyCases() {
		var buf bytes.Buffer
		if err := x.WriteNPY(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'}\n"))
	f.Add([]byte("\x93NUMPY\x02\x00\x3a\x00\x00\x00{'descr': '>f8', 'fortran_order': True, 'shape': (2, 2), }\n0123456789abcdef0123456789abcdef"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := tensor.ReadNPY(bytes.NewReader(data))
		if err != nil {
			require.Nil(t, x)
			return
		}
		var buf bytes.Buffer
		require.NoError(t, x.WriteNPY(&buf))
		y, err := tensor.ReadNPY(&buf)
		require.NoError(t, err)
		requireSameTensor(t, x, y)
	})
}

// npyInteropScript checks the go_*.npy files that Go wrote against the
// expected arrays and writes py_*.npy files (in several versions, byte
// orders and memory orders) for Go to read.
const npyInteropScript = `
import sys
import numpy as np
d = sys.argv[1]
want = {
    "f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
    "f32_t": np.arange(6, dtype=np.float32).reshape(2, 3).T,
    "f32_scalar": np.array(-2.5, dtype=np.float32),
    "f32_empty": np.zeros((0, 3), dtype=np.float32),
    "f64": np.array([-1.5, np.inf, 1e300, np.nan, -0.0, 5e-324]),
    "i64": np.array([[3], [-7], [2**62], [-2**63]], dtype=np.int64),
    "i64_slice": np.array([1, 4, 7], dtype=np.int64),
    "bool": np.array([[True, False], [False, True], [True, False]]),
    "bool_empty": np.zeros(0, dtype=bool),
    "u8": np.array([0, 1, 127, 128, 255], dtype=np.uint8),
    "u8_expand": np.full((2, 3), 9, dtype=np.uint8),
}
for name, w in want.items():
    got = np.load(f"{d}/go_{name}.npy")
    assert got.dtype == w.dtype, (name, got.dtype, w.dtype)
    assert got.shape == w.shape, (name, got.shape, w.shape)
    assert np.array_equal(got, w, equal_nan=(w.dtype.kind == "f")), (name, got, w)
    if w.dtype.kind == "f":
        assert np.array_equal(np.signbit(got), np.signbit(w)), name
f64_3d = np.load(f"{d}/go_f64_3d.npy")
assert np.allclose(f64_3d, np.sin(np.arange(24.0).reshape(2, 3, 4)), rtol=0, atol=1e-15)

np.save(f"{d}/py_f32.npy", np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5)
np.save(f"{d}/py_f32_fortran.npy", np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5))
np.save(f"{d}/py_f64_be.npy", np.array([[1.25, -2.0], [np.inf, 3e-300]], dtype=">f8"))
np.save(f"{d}/py_i64.npy", np.array([-(2**63), 2**63 - 1, 0], dtype=np.int64))
np.save(f"{d}/py_bool.npy", np.array([[True], [False]]))
np.save(f"{d}/py_u8.npy", np.arange(250, 256, dtype=np.uint8))
np.save(f"{d}/py_scalar.npy", np.float64(6.5))
np.save(f"{d}/py_empty.npy", np.zeros((2, 0), dtype=np.int64))
with open(f"{d}/py_v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.arange(5, dtype=np.float32), version=(2, 0))
print("ok")
`

// TestNPYInteropNumPy writes files with Go and reads them with NumPy, and
// the other way round. It is skipped where python3 with numpy is missing
// (set NABLA_PYTHON to choose an interpreter).
func TestNPYInteropNumPy(t *testing.T) {
	python := pytest.Find(t, "numpy")
	dir := t.TempDir()
	for name, x := range npyCases() {
		require.NoError(t, x.SaveNPY(filepath.Join(dir, "go_"+name+".npy")))
	}
	script := filepath.Join(dir, "check.py")
	require.NoError(t, os.WriteFile(script, []byte(npyInteropScript), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, script, dir).CombinedOutput()
	require.NoError(t, err, "numpy could not read nabla's files:\n%s", out)
	require.Equal(t, "ok", strings.TrimSpace(string(out)))

	load := func(name string) *tensor.Tensor {
		x, err := tensor.LoadNPY(filepath.Join(dir, name))
		require.NoError(t, err, name)
		return x
	}
	want := seq32(3, 4).Mul(0.5)
	requireSameTensor(t, want, load("py_f32.npy"))
	requireSameTensor(t, want, load("py_f32_fortran.npy"))
	requireSameTensor(t, tensor.FromSlice([]float64{1.25, -2, math.Inf(1), 3e-300}, 2, 2), load("py_f64_be.npy"))
	requireSameTensor(t, tensor.FromSlice([]int64{math.MinInt64, math.MaxInt64, 0}), load("py_i64.npy"))
	requireSameTensor(t, tensor.FromSlice([]bool{true, false}, 2, 1), load("py_bool.npy"))
	requireSameTensor(t, tensor.FromSlice([]uint8{250, 251, 252, 253, 254, 255}), load("py_u8.npy"))
	requireSameTensor(t, tensor.Scalar(6.5), load("py_scalar.npy"))
	requireSameTensor(t, tensor.Of(tensor.Int64).Zeros(2, 0), load("py_empty.npy"))
	requireSameTensor(t, tensor.Arange(0, 5, 1), load("py_v2.npy"))
}
