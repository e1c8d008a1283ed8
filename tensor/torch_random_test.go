package tensor_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/pytest"
	"github.com/nabla-go/nabla/tensor"
)

// torchRef is testdata/torch_random.json: what PyTorch 1.13's CPU
// generator drew for the calls of testdata/torch_random.py.
type torchRef struct {
	Torch string `json:"torch"`
	Cases []struct {
		Seed  string `json:"seed"`
		Calls []struct {
			Op     string        `json:"op"`
			DType  string        `json:"dtype"`
			Shape  []int         `json:"shape"`
			Lo     json.Number   `json:"lo"`
			Hi     json.Number   `json:"hi"`
			Mean   float64       `json:"mean"`
			Std    float64       `json:"std"`
			P      float64       `json:"p"`
			N      int           `json:"n"`
			Values []json.Number `json:"values"`
			SHA256 string        `json:"sha256"`
			Sum    float64       `json:"sum"`
		} `json:"calls"`
		StateSHA256 string `json:"state_sha256"`
		State       string `json:"state"`
	} `json:"cases"`
}

func loadTorchRef(t *testing.T) torchRef {
	data, err := os.ReadFile("testdata/torch_random.json")
	require.NoError(t, err)
	var ref torchRef
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&ref))
	require.NotEmpty(t, ref.Cases)
	return ref
}

var refDTypes = map[string]tensor.DType{"": tensor.Float32, "float32": tensor.Float32, "float64": tensor.Float64,
	"int64": tensor.Int64, "uint8": tensor.Uint8, "bool": tensor.Bool}

func mustInt(t *testing.T, n json.Number) int64 {
	v, err := strconv.ParseInt(n.String(), 10, 64)
	require.NoError(t, err)
	return v
}

func mustFloat(t *testing.T, n json.Number) float64 {
	v, err := strconv.ParseFloat(n.String(), 64)
	require.NoError(t, err)
	return v
}

// TestTorchStreams checks every draw of testdata/torch_random.json:
// Float32 values and all integers bit for bit, as are Float64 uniforms;
// Float64 normals (whose logarithm, sine and cosine come from Go's math
// package rather than glibc's) to within a few units in the last place.
// After each case the generator's state must be PyTorch's, byte for byte.
func TestTorchStreams(t *testing.T) {
	ref := loadTorchRef(t)
	for ci, c := range ref.Cases {
		seed, err := strconv.ParseUint(c.Seed, 10, 64)
		require.NoError(t, err)
		g := tensor.NewGenerator(seed)
		if ci == 0 {
			// The first case goes through the default generator.
			tensor.ManualSeed(seed)
			g = tensor.DefaultGenerator()
		}
		o := tensor.Options{}.WithGenerator(g)
		for k, call := range c.Calls {
			name := fmt.Sprintf("seed %s, call %d (%s %v %s)", c.Seed, k, call.Op, call.Shape, call.DType)
			dt, ok := refDTypes[call.DType]
			require.True(t, ok, name)
			od := o.Of(dt)
			var x *tensor.Tensor
			switch call.Op {
			case "rand":
				x = od.Rand(call.Shape...)
			case "randn":
				x = od.Randn(call.Shape...)
			case "uniform":
				x = od.Uniform(mustFloat(t, call.Lo), mustFloat(t, call.Hi), call.Shape...)
			case "normal":
				x = od.Normal(call.Mean, call.Std, call.Shape...)
			case "randint":
				x = od.RandInt(mustInt(t, call.Lo), mustInt(t, call.Hi), call.Shape...)
			case "bernoulli":
				x = od.Bernoulli(call.P, call.Shape...)
			case "randperm":
				x = o.RandPerm(call.N)
			case "int63":
				x = tensor.Scalar(g.Int63())
			default:
				t.Fatalf("%s: unknown op", name)
			}
			normal64 := dt == tensor.Float64 && (call.Op == "randn" || call.Op == "normal")
			if call.SHA256 != "" {
				if normal64 {
					require.InDelta(t, call.Sum, x.Sum().Item(), 1e-9*math.Abs(call.Sum), name)
					continue
				}
				sum := sha256.Sum256(x.Bytes())
				require.Equal(t, call.SHA256, hex.EncodeToString(sum[:]), name)
				continue
			}
			require.Len(t, call.Values, x.Numel(), name)
			switch x.DType() {
			case tensor.Int64:
				for i, v := range x.Int64s() {
					require.Equal(t, mustInt(t, call.Values[i]), v, "%s: element %d", name, i)
				}
			case tensor.Float32:
				for i, v := range x.Float32s() {
					require.Equal(t, math.Float32bits(float32(mustFloat(t, call.Values[i]))), math.Float32bits(v),
						"%s: element %d: want %v, got %v", name, i, call.Values[i], v)
				}
			case tensor.Float64:
				for i, v := range x.Float64s() {
					want := mustFloat(t, call.Values[i])
					if normal64 {
						require.InDelta(t, want, v, 4*ulp(want), "%s: element %d", name, i)
					} else {
						require.Equal(t, math.Float64bits(want), math.Float64bits(v), "%s: element %d: want %v, got %v", name, i, want, v)
					}
				}
			default:
				for i, v := range values(x) {
					require.Equal(t, mustFloat(t, call.Values[i]), v, "%s: element %d", name, i)
				}
			}
		}
		state := g.State()
		require.Len(t, state, tensor.StateSize)
		sum := sha256.Sum256(state[:5056])
		require.Equal(t, c.StateSHA256, hex.EncodeToString(sum[:]), "seed %s: the state after the draws is torch.get_rng_state()", c.Seed)
		if c.State != "" {
			torchState, err := base64.StdEncoding.DecodeString(c.State)
			require.NoError(t, err)
			require.Equal(t, torchState, state[:5056])
			// PyTorch's state continues the stream in nabla.
			h := tensor.NewGenerator(1)
			require.NoError(t, h.SetState(torchState))
			require.Equal(t, o.Randn(20).Float32s(), tensor.Options{}.WithGenerator(h).Randn(20).Float32s())
			require.Equal(t, seed, h.InitialSeed())
		}
	}
}

func ulp(x float64) float64 {
	return math.Nextafter(math.Abs(x), math.Inf(1)) - math.Abs(x)
}

// TestTorchStreamsRegenerate reruns testdata/torch_random.py where
// PyTorch is installed (it skips elsewhere) and checks that it prints the
// committed testdata/torch_random.json. NABLA_UPDATE_TORCH_REFERENCE=1
// rewrites the file instead.
func TestTorchStreamsRegenerate(t *testing.T) {
	out := pytest.RunFile(t, "testdata/torch_random.py")
	if os.Getenv("NABLA_UPDATE_TORCH_REFERENCE") == "1" {
		require.NoError(t, os.WriteFile("testdata/torch_random.json", []byte(out), 0o644))
		return
	}
	want, err := os.ReadFile("testdata/torch_random.json")
	require.NoError(t, err)
	require.Equal(t, string(want), out,
		"PyTorch here draws other numbers than the committed reference (PyTorch 1.13 on an AVX2 x86-64 CPU wrote it)")
}

// TestStateContinuesInTorch hands a nabla generator's state to PyTorch
// (torch.set_rng_state) where PyTorch is installed: PyTorch then draws
// what the nabla generator draws next, the cached normal value included.
func TestStateContinuesInTorch(t *testing.T) {
	g := tensor.NewGenerator(123)
	o := tensor.Options{}.WithGenerator(g)
	o.Rand(1000)
	o.Randn(3) // leaves the second value of a pair cached
	path := t.TempDir() + "/state.bin"
	require.NoError(t, os.WriteFile(path, g.State()[:5056], 0o644))
	out := pytest.Run(t, "torch", `
s = open(sys.argv[1], "rb").read()
torch.set_rng_state(torch.tensor(list(s), dtype=torch.uint8))
print(torch.initial_seed())
for x in (torch.randn(1), torch.randn(20), torch.rand(3), torch.randint(0, 100, (4,))):
    print(" ".join(repr(float(v)) for v in x.tolist()))
`, path)
	var want []string
	want = append(want, "123")
	for _, x := range []*tensor.Tensor{o.Randn(1), o.Randn(20), o.Rand(3), o.RandInt(0, 100, 4).As(tensor.Float64)} {
		var f []string
		for _, v := range values(x) {
			f = append(f, strconv.FormatFloat(v, 'g', -1, 64))
		}
		want = append(want, strings.Join(f, " "))
	}
	got := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, got, len(want), out)
	require.Equal(t, want[0], got[0])
	for i := 1; i < len(want); i++ {
		wf, gf := strings.Fields(want[i]), strings.Fields(got[i])
		require.Len(t, gf, len(wf))
		for k := range wf {
			a, err1 := strconv.ParseFloat(wf[k], 64)
			b, err2 := strconv.ParseFloat(gf[k], 64)
			require.NoError(t, err1)
			require.NoError(t, err2)
			require.Equal(t, float32(a), float32(b), "line %d value %d", i, k)
		}
	}
}
