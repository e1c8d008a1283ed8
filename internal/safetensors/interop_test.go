package safetensors

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/pytest"

	"github.com/nabla-go/nabla/device"
)

// interopScript writes tensors made by PyTorch to argv[1] with a
// hand-written safetensors writer that follows the reference layout, and
// reads the nabla-written argv[2] with a hand-written reader, checking every
// tensor against the same PyTorch values.
const interopScript = `
import json, struct
import numpy as np

def expected():
    return {
        "0.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4,
        "0.bias": torch.tensor([-1.5, 2.25], dtype=torch.float64),
        "labels": torch.tensor([3, -7, 2**62], dtype=torch.int64),
        "mask": torch.tensor([[True, False], [False, True]]),
        "pixels": torch.tensor([0, 127, 255], dtype=torch.uint8),
        "scalar": torch.tensor(0.5, dtype=torch.float32),
        "empty": torch.zeros((0, 4), dtype=torch.float32),
    }

CODES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64",
         torch.bool: "BOOL", torch.uint8: "U8"}
NP = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "BOOL": "|b1", "U8": "|u1"}

def write(path, tensors, metadata):
    header, data, off = {}, b"", 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name]
        raw = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": CODES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)

def read(path):
    buf = open(path, "rb").read()
    (n,) = struct.unpack("<Q", buf[:8])
    assert n % 8 == 0, "header not padded to 8"
    header = json.loads(buf[8:8 + n])
    meta = header.pop("__metadata__", None)
    data = buf[8 + n:]
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[b:e], dtype=NP[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta

write(sys.argv[1], expected(), {"format": "pt"})
got, meta = read(sys.argv[2])
assert meta == {"format": "pt"}, meta
want = expected()
assert sorted(got) == sorted(want), (sorted(got), sorted(want))
for name, w in want.items():
    g = got[name]
    assert g.dtype == w.dtype and g.shape == w.shape and torch.equal(g, w), (name, g, w)
print("ok")
`

func interopTensors() []Tensor {
	return []Tensor{
		{Name: "0.weight", DType: device.Float32, Shape: []int{2, 3}, Data: f32bytes(0, 0.25, 0.5, 0.75, 1, 1.25)},
		{Name: "0.bias", DType: device.Float64, Shape: []int{2}, Data: f64bytes(-1.5, 2.25)},
		{Name: "labels", DType: device.Int64, Shape: []int{3}, Data: i64bytes(3, -7, 1<<62)},
		{Name: "mask", DType: device.Bool, Shape: []int{2, 2}, Data: []byte{1, 0, 0, 1}},
		{Name: "pixels", DType: device.Uint8, Shape: []int{3}, Data: []byte{0, 127, 255}},
		{Name: "scalar", DType: device.Float32, Shape: []int{}, Data: f32bytes(0.5)},
		{Name: "empty", DType: device.Float32, Shape: []int{0, 4}, Data: []byte{}},
	}
}

func TestInteropPyTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Python")
	}
	dir := t.TempDir()
	goPath := filepath.Join(dir, "go.safetensors")
	pyPath := filepath.Join(dir, "py.safetensors")
	meta := map[string]string{"format": "pt"}
	require.NoError(t, WriteFile(goPath, interopTensors(), meta))

	out := pytest.Run(t, "numpy, torch", interopScript, pyPath, goPath)
	require.Contains(t, out, "ok")

	// nabla reads what PyTorch wrote ...
	f, err := ReadFile(pyPath)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, meta, f.Metadata())
	for _, want := range interopTensors() {
		got, err := f.Tensor(want.Name)
		require.NoError(t, err, want.Name)
		require.Equal(t, want.DType, got.DType, want.Name)
		require.Equal(t, len(want.Shape), len(got.Shape), want.Name)
		if len(want.Shape) > 0 {
			require.Equal(t, want.Shape, got.Shape, want.Name)
		}
		require.True(t, bytes.Equal(want.Data, got.Data), want.Name)
	}
	// ... and writes the very same bytes.
	pyBytes, err := os.ReadFile(pyPath)
	require.NoError(t, err)
	goBytes, err := os.ReadFile(goPath)
	require.NoError(t, err)
	require.Equal(t, string(pyBytes), string(goBytes))
}
