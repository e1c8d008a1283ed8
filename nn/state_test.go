package nn_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/pytest"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/internal/safetensors"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// refModel is the architecture of testdata/torch_interop.py:
//
//	nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(),
//	    nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3))
func refModel() *nn.SequentialModule {
	return nn.Sequential(nn.Conv2d(1, 2, 3, nn.Padding(1)), nn.BatchNorm2d(2), nn.ReLU(),
		nn.MaxPool2d(2, 0), nn.Flatten(), nn.Linear(8, 3))
}

// trained returns a refModel whose BatchNorm statistics have moved.
func trained(seed uint64) *nn.SequentialModule {
	tensor.ManualSeed(seed)
	m := refModel()
	for k := range 3 {
		m.Forward(autograd.Const(tensor.Randn(4, 1, 4, 4).Mul(1 + float64(k))))
	}
	return m
}

// snapshot copies every state tensor's values.
func snapshot(m nn.Module) map[string][]float64 {
	out := map[string][]float64{}
	for _, e := range nn.StateDict(m) {
		if e.Tensor.DType() == tensor.Int64 {
			for _, v := range e.Tensor.Reshape(-1).Int64s() {
				out[e.Name] = append(out[e.Name], float64(v))
			}
			continue
		}
		out[e.Name] = e.Tensor.As(tensor.Float64).Reshape(-1).Float64s()
	}
	return out
}

func evalOutput(m nn.Module, x *tensor.Tensor) []float32 {
	m.Eval()
	defer m.Train()
	var y []float32
	autograd.NoGrad(func() { y = m.Forward(autograd.Const(x)).Detach().Float32s() })
	return y
}

func TestStateDictRoundTrip(t *testing.T) {
	a, b := trained(1), trained(2)
	require.NotEqual(t, snapshot(a), snapshot(b))
	sd := nn.StateDict(a)
	require.NoError(t, nn.LoadStateDict(b, sd))
	require.Equal(t, snapshot(a), snapshot(b))
	x := tensor.Randn(3, 1, 4, 4)
	require.Equal(t, evalOutput(a, x), evalOutput(b, x))

	// Loading copies: b's tensors do not alias a's, and later training of
	// a changes a's state dict (it shares memory) but not b.
	a.Forward(autograd.Const(tensor.Randn(4, 1, 4, 4)))
	require.NotEqual(t, snapshot(a), snapshot(b))
	require.Equal(t, snapshot(a)["1.running_mean"], sd[4].Tensor.As(tensor.Float64).Float64s())
	require.Equal(t, []float64{4}, snapshot(a)["1.num_batches_tracked"])

	// A module's own state dict loads back onto itself.
	before := snapshot(a)
	require.NoError(t, nn.LoadStateDict(a, nn.StateDict(a)))
	require.Equal(t, before, snapshot(a))
}

func TestLoadStateDictIsStrict(t *testing.T) {
	m := refModel()
	before := snapshot(m)
	good := nn.StateDict(trained(3))
	drop := func(name string) []nn.NamedTensor {
		var out []nn.NamedTensor
		for _, e := range good {
			if e.Name != name {
				out = append(out, e)
			}
		}
		return out
	}
	replace := func(name string, t *tensor.Tensor) []nn.NamedTensor {
		out := drop(name)
		return append(out, nn.NamedTensor{Name: name, Tensor: t})
	}
	cases := []struct {
		name string
		sd   []nn.NamedTensor
		want nn.StateDictError
		msg  string
	}{
		{"missing", drop("5.bias"), nn.StateDictError{Missing: []string{"5.bias"}}, `missing keys ["5.bias"]`},
		{"unexpected", append(drop("0.bias"), nn.NamedTensor{Name: "extra", Tensor: tensor.Zeros(1)}),
			nn.StateDictError{Missing: []string{"0.bias"}, Unexpected: []string{"extra"}}, `unexpected keys ["extra"]`},
		{"shape", replace("5.weight", tensor.Zeros(4, 8)),
			nn.StateDictError{Mismatched: []string{"5.weight: shape [4 8] in the state dict, [3 8] in the model"}}, "shape [4 8]"},
		{"dtype", replace("1.running_var", tensor.Of(tensor.Float64).Ones(2)),
			nn.StateDictError{Mismatched: []string{"1.running_var: dtype float64 in the state dict, float32 in the model"}}, "dtype float64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := nn.LoadStateDict(m, c.sd)
			var se *nn.StateDictError
			require.True(t, errors.As(err, &se), "%v", err)
			require.Equal(t, c.want, *se)
			require.ErrorContains(t, err, c.msg)
			require.Equal(t, before, snapshot(m), "a failed load must change nothing")
		})
	}
	require.ErrorContains(t, nn.LoadStateDict(m, append(good, good[0])), "twice")
	require.ErrorContains(t, nn.LoadStateDict(m, replace("0.bias", nil)), "holds no tensor")
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	a := trained(4)
	require.NoError(t, nn.Save(path, a))
	b := trained(5)
	require.NoError(t, nn.Load(path, b))
	require.Equal(t, snapshot(a), snapshot(b))
	x := tensor.Randn(2, 1, 4, 4)
	require.Equal(t, evalOutput(a, x), evalOutput(b, x))

	// The file is a safetensors file with PyTorch's names and dtypes.
	f, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, map[string]string{"format": "pt"}, f.Metadata())
	info, ok := f.Info("1.num_batches_tracked")
	require.True(t, ok)
	require.Equal(t, "I64", info.Code)
	require.Empty(t, info.Shape)
	info, _ = f.Info("0.weight")
	require.Equal(t, []int{2, 1, 3, 3}, info.Shape)
	require.Equal(t, "F32", info.Code)

	// Float64 models round-trip exactly too.
	c := nn.Cast(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)), tensor.Float64)
	p64 := filepath.Join(dir, "f64.safetensors")
	require.NoError(t, nn.Save(p64, c))
	d := nn.Cast(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)), tensor.Float64)
	require.NoError(t, nn.Load(p64, d))
	require.Equal(t, snapshot(c), snapshot(d))
	// ... but not into a Float32 model: dtypes must match.
	err = nn.Load(p64, nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)))
	require.ErrorContains(t, err, "0.weight: dtype float64 in the state dict, float32 in the model")
}

func TestLoadIntoDifferentModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, nn.Save(path, nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))))

	wider := nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
	before := snapshot(wider)
	err := nn.Load(path, wider)
	require.Error(t, err)
	var se *nn.StateDictError
	require.ErrorAs(t, err, &se)
	require.Equal(t, []string{
		"0.weight: shape [8 4] in the state dict, [16 4] in the model",
		"0.bias: shape [8] in the state dict, [16] in the model",
		"2.weight: shape [2 8] in the state dict, [2 16] in the model",
	}, se.Mismatched)
	require.Contains(t, err.Error(), path)
	require.Equal(t, before, snapshot(wider))

	other := nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
	err = nn.Load(path, other)
	require.ErrorAs(t, err, &se)
	require.Equal(t, []string{"1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"}, se.Missing)
	require.Empty(t, se.Unexpected)
	require.Empty(t, se.Mismatched)

	err = nn.Load(path, nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.ReLU(), nn.Linear(8, 2)))
	require.ErrorAs(t, err, &se)
	require.Equal(t, []string{"3.weight", "3.bias"}, se.Missing)
	require.Equal(t, []string{"2.bias", "2.weight"}, se.Unexpected)
}

func TestLoadRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "good.safetensors")
	require.NoError(t, nn.Save(path, refModel()))
	good, err := os.ReadFile(path)
	require.NoError(t, err)
	hlen := int(binary.LittleEndian.Uint64(good))

	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return p
	}
	withHeader := func(edit func(h map[string]any)) []byte {
		var h map[string]any
		require.NoError(t, json.Unmarshal(good[8:8+hlen], &h))
		edit(h)
		js, err := json.Marshal(h)
		require.NoError(t, err)
		out := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
		return append(append(out, js...), good[8+hlen:]...)
	}
	cases := []struct {
		name string
		data []byte
		msg  string
	}{
		{"empty", nil, "too short"},
		{"header length only", good[:8], "exceeds"},
		{"truncated header", good[:8+hlen/2], "exceeds"},
		{"truncated data", good[:len(good)-5], "invalid file"},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, 1<<60), good[8:]...), "exceeds"},
		{"garbage", []byte("this is not a safetensors file at all, just text"), "invalid file"},
		{"not json", append(binary.LittleEndian.AppendUint64(nil, 4), []byte("{{{{")...), "invalid file"},
		{"f16", withHeader(func(h map[string]any) {
			h["0.bias"].(map[string]any)["dtype"] = "BF16"
			h["0.bias"].(map[string]any)["shape"] = []int{4}
		}), "0.bias: dtype BF16 is not supported"},
		{"wrong shape", withHeader(func(h map[string]any) {
			h["0.weight"].(map[string]any)["shape"] = []int{1, 2, 3, 3}
		}), "0.weight: shape [1 2 3 3] in the state dict, [2 1 3 3] in the model"},
		{"renamed", withHeader(func(h map[string]any) {
			h["weight"] = h["0.weight"]
			delete(h, "0.weight")
		}), `missing keys ["0.weight"]; unexpected keys ["weight"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := refModel()
			before := snapshot(m)
			err := nn.Load(write(c.name, c.data), m)
			require.Error(t, err)
			require.ErrorContains(t, err, c.msg)
			require.Equal(t, before, snapshot(m))
		})
	}
	require.ErrorIs(t, nn.Load(filepath.Join(dir, "missing.safetensors"), refModel()), os.ErrNotExist)

	// Every truncation and a flipped byte anywhere give an error or a
	// (data-only) change, never a panic.
	for n := range len(good) {
		require.Error(t, nn.Load(write("cut", good[:n]), refModel()), "truncated to %d bytes", n)
	}
	for i := range len(good) {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x5a
		p := write("flip", bad)
		require.NotPanics(t, func() { _ = nn.Load(p, refModel()) }, "byte %d", i)
	}
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	err := nn.Save(filepath.Join(dir, "no", "such", "dir", "m.safetensors"), refModel())
	require.Error(t, err)
	require.ErrorIs(t, err, os.ErrNotExist)
	// A directory in the way is refused and left alone.
	require.Error(t, nn.Save(dir, refModel()))
	st, err := os.Stat(dir)
	require.NoError(t, err)
	require.True(t, st.IsDir())
}

func TestLoadTorchFile(t *testing.T) {
	// testdata/torch_model.safetensors holds the state dict of
	// torch_interop.py's model after three training passes, written by
	// PyTorch 1.13; torch_model_io.safetensors an input and PyTorch's
	// eval-mode output for it.
	m := refModel()
	require.NoError(t, nn.Load("testdata/torch_model.safetensors", m))
	require.Equal(t, []float64{3}, snapshot(m)["1.num_batches_tracked"])
	io, err := safetensors.ReadFile("testdata/torch_model_io.safetensors")
	require.NoError(t, err)
	defer io.Close()
	x := readFloat32(t, io, "input")
	want := readFloat32(t, io, "output")
	got := evalOutput(m, x)
	require.Equal(t, want.Shape(), []int{2, 3})
	require.InDeltaSlice(t, toF64(want.Float32s()), toF64(got), 1e-5)
}

func readFloat32(t *testing.T, f *safetensors.File, name string) *tensor.Tensor {
	t.Helper()
	st, err := f.Tensor(name)
	require.NoError(t, err)
	require.Equal(t, tensor.Float32, st.DType)
	vals := make([]float32, len(st.Data)/4)
	for i := range vals {
		vals[i] = mathFloat32(binary.LittleEndian.Uint32(st.Data[4*i:]))
	}
	return tensor.FromSlice(vals, st.Shape...)
}

func toF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func TestTorchInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Python")
	}
	script, err := filepath.Abs("testdata/torch_interop.py")
	require.NoError(t, err)
	dir := t.TempDir()

	// nabla -> PyTorch: a model trained here loads into torch with
	// load_state_dict(strict=True) and computes the same outputs; the
	// same run writes a fresh PyTorch model for the other direction.
	n := trained(6)
	path := filepath.Join(dir, "nabla.safetensors")
	require.NoError(t, nn.Save(path, n))
	out := pytest.RunFile(t, script, "both", dir, path)
	var res struct {
		Output            []float64 `json:"output"`
		Keys              []string  `json:"keys"`
		NumBatchesTracked int       `json:"num_batches_tracked"`
	}
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &res), out)
	io, err := safetensors.ReadFile(filepath.Join(dir, "torch_model_io.safetensors"))
	require.NoError(t, err)
	defer io.Close()
	x := readFloat32(t, io, "input")
	require.InDeltaSlice(t, res.Output, toF64(evalOutput(n, x)), 1e-5)
	var keys []string
	for _, e := range nn.StateDict(n) {
		keys = append(keys, e.Name)
	}
	require.Equal(t, res.Keys, keys)
	require.Equal(t, 3, res.NumBatchesTracked)

	// PyTorch -> nabla, freshly written.
	m := refModel()
	require.NoError(t, nn.Load(filepath.Join(dir, "torch_model.safetensors"), m))
	require.InDeltaSlice(t, toF64(readFloat32(t, io, "output").Float32s()), toF64(evalOutput(m, x)), 1e-5)
}

func mathFloat32(bits uint32) float32 { return math.Float32frombits(bits) }
