package optim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/internal/safetensors"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// tinyModel is a 3-4-1 tanh network built by hand from autograd ops.
type tinyModel struct{ w1, b1, w2, b2 *autograd.Var }

// newTinyModel initialises the weights from the default generator.
func newTinyModel() *tinyModel {
	return &tinyModel{
		w1: autograd.Param(tensor.Randn(3, 4).Mul(0.5)),
		b1: autograd.Param(tensor.Randn(4).Mul(0.1)),
		w2: autograd.Param(tensor.Randn(4, 1).Mul(0.5)),
		b2: autograd.Param(tensor.Zeros(1)),
	}
}

func (m *tinyModel) params() []*autograd.Var { return []*autograd.Var{m.w1, m.b1, m.w2, m.b2} }

func (m *tinyModel) state() []NamedTensor {
	return []NamedTensor{
		{Name: "0.weight", Tensor: m.w1.Detach()}, {Name: "0.bias", Tensor: m.b1.Detach()},
		{Name: "2.weight", Tensor: m.w2.Detach()}, {Name: "2.bias", Tensor: m.b2.Detach()},
	}
}

func (m *tinyModel) forward(x *autograd.Var) *autograd.Var {
	return x.MatMul(m.w1).Add(m.b1).Tanh().MatMul(m.w2).Add(m.b2)
}

// weights returns every weight, for bit-for-bit comparison.
func (m *tinyModel) weights() []float32 {
	var out []float32
	for _, p := range m.params() {
		out = append(out, p.Detach().Float32s()...)
	}
	return out
}

// run is one training setup: a model, an optimizer, a schedule and the
// data generator that shuffles the examples.
type run struct {
	model   *tinyModel
	opt     Optimizer
	sched   Scheduler
	dataGen *tensor.Generator
	x, y    *tensor.Tensor
}

type setup struct {
	name  string
	opt   func([]*autograd.Var) Optimizer
	sched func(Optimizer) Scheduler
}

var resumeSetups = []setup{
	{"SGD Nesterov, StepLR",
		func(ps []*autograd.Var) Optimizer { return SGD(ps, 0.1, Momentum(0.9), Nesterov(), WeightDecay(1e-3)) },
		func(o Optimizer) Scheduler { return StepLR(o, 2, 0.5) }},
	{"SGD dampening, no schedule",
		func(ps []*autograd.Var) Optimizer { return SGD(ps, 0.05, Momentum(0.5), Dampening(0.1)) },
		nil},
	{"AdaGrad, ExponentialLR",
		func(ps []*autograd.Var) Optimizer { return AdaGrad(ps, 0.1, LRDecay(0.01), InitialAccumulator(0.1)) },
		func(o Optimizer) Scheduler { return ExponentialLR(o, 0.9) }},
	{"RMSProp centered momentum, CosineAnnealingLR",
		func(ps []*autograd.Var) Optimizer { return RMSProp(ps, 0.01, Centered(), Momentum(0.9)) },
		func(o Optimizer) Scheduler { return CosineAnnealingLR(o, 4, 1e-4) }},
	{"Adam AMSGrad, CosineAnnealingLR",
		func(ps []*autograd.Var) Optimizer { return Adam(ps, 0.01, AMSGrad(), WeightDecay(1e-4)) },
		func(o Optimizer) Scheduler { return CosineAnnealingLR(o, 3, 0) }},
	{"AdamW, StepLR",
		func(ps []*autograd.Var) Optimizer { return AdamW(ps, 0.01) },
		func(o Optimizer) Scheduler { return StepLR(o, 3, 0.1) }},
}

// newRun builds a setup; seed sets the default generator first, so runs
// with different seeds start from different weights.
func newRun(s setup, seed uint64) *run {
	g := tensor.NewGenerator(42)
	x := tensor.Of(tensor.Float32).WithGenerator(g).Randn(8, 3)
	y := x.Sum(1).Sin().Reshape(8, 1)
	tensor.ManualSeed(seed)
	r := &run{model: newTinyModel(), dataGen: tensor.NewGenerator(seed + 1), x: x, y: y}
	r.opt = s.opt(r.model.params())
	if s.sched != nil {
		r.sched = s.sched(r.opt)
	}
	return r
}

// epoch trains one epoch: a shuffle from the data generator, input noise
// from the default generator, two mini-batches with gradient clipping,
// then a schedule step.
func (r *run) epoch() {
	perm := tensor.Of(tensor.Float32).WithGenerator(r.dataGen).RandPerm(8)
	noise := tensor.Randn(8, 3).Mul(0.05)
	x := r.x.Add(noise).IndexSelect(0, perm)
	y := r.y.IndexSelect(0, perm)
	for b := 0; b < 8; b += 4 {
		r.opt.ZeroGrad()
		pred := r.model.forward(autograd.Const(x.Narrow(0, b, 4)))
		loss := pred.Sub(autograd.Const(y.Narrow(0, b, 4))).Square().Mean()
		loss.Backward()
		ClipGradNorm(r.model.params(), 0.5)
		r.opt.Step()
	}
	if r.sched != nil {
		r.sched.Step()
	}
}

func (r *run) checkpoint(epoch int) Checkpoint {
	return Checkpoint{Epoch: epoch, ModelState: r.model.state(), Optimizer: r.opt, Scheduler: r.sched, DataGenerator: r.dataGen}
}

// TestCheckpointResumeIsBitIdentical trains k epochs, checkpoints and
// trains on to n; then loads the checkpoint into a fresh setup (other
// initial weights, other generator states) and trains from k to n. The
// weights, learning rates and generator states must be identical bit for
// bit.
func TestCheckpointResumeIsBitIdentical(t *testing.T) {
	const k, n = 3, 7
	for _, s := range resumeSetups {
		t.Run(s.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ckpt.safetensors")
			a := newRun(s, 1)
			for e := 0; e < k; e++ {
				a.epoch()
			}
			c := a.checkpoint(k)
			c.Metadata = map[string]string{"run": "resume-test"}
			require.NoError(t, SaveCheckpoint(path, c))
			for e := k; e < n; e++ {
				a.epoch()
			}
			wantWeights, wantLR := a.model.weights(), a.opt.LR()
			wantRNG, wantDataRNG := tensor.DefaultGenerator().State(), a.dataGen.State()

			b := newRun(s, 99)
			require.NotEqual(t, a.model.weights(), b.model.weights())
			got := b.checkpoint(0)
			require.NoError(t, LoadCheckpoint(path, &got))
			require.Equal(t, k, got.Epoch)
			require.Equal(t, map[string]string{"run": "resume-test"}, got.Metadata)
			for e := got.Epoch; e < n; e++ {
				b.epoch()
			}
			require.Equal(t, wantWeights, b.model.weights(), "resumed training must give the same weights bit for bit")
			require.Equal(t, wantLR, b.opt.LR())
			require.Equal(t, wantRNG, tensor.DefaultGenerator().State(), "default generator")
			require.Equal(t, wantDataRNG, b.dataGen.State(), "data generator")
			for _, w := range wantWeights {
				require.False(t, math.IsNaN(float64(w)))
			}
		})
	}
}

// TestCheckpointPartialLoad loads only the model (evaluation), ignoring
// the optimizer state in the file.
func TestCheckpointPartialLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	a := newRun(resumeSetups[4], 1)
	a.epoch()
	require.NoError(t, SaveCheckpoint(path, a.checkpoint(1)))

	b := newRun(resumeSetups[4], 2)
	c := Checkpoint{ModelState: b.model.state()}
	require.NoError(t, LoadCheckpoint(path, &c))
	require.Equal(t, a.model.weights(), b.model.weights())
	require.Empty(t, b.opt.StateDict().Tensors)

	// An optimizer asked for but absent from the file is an error.
	require.NoError(t, SaveCheckpoint(path, Checkpoint{Epoch: 1, ModelState: a.model.state()}))
	c = Checkpoint{ModelState: b.model.state(), Optimizer: b.opt}
	require.ErrorIs(t, LoadCheckpoint(path, &c), ErrState)
	c = Checkpoint{ModelState: b.model.state(), DataGenerator: tensor.NewGenerator(1)}
	require.ErrorIs(t, LoadCheckpoint(path, &c), ErrState)
}

// failedLoad checks that LoadCheckpoint fails with the given sentinel
// and leaves the targets untouched.
func failedLoad(t *testing.T, path string, sentinel error, msgAndArgs ...any) {
	t.Helper()
	r := newRun(resumeSetups[0], 5)
	r.epoch()
	weights, lr := r.model.weights(), r.opt.LR()
	optSD := r.opt.StateDict()
	rng, dataRNG := tensor.DefaultGenerator().State(), r.dataGen.State()
	c := r.checkpoint(0)
	err := LoadCheckpoint(path, &c)
	require.Error(t, err, msgAndArgs...)
	require.True(t, errors.Is(err, sentinel), append([]any{"%v"}, err)...)
	require.Equal(t, weights, r.model.weights(), msgAndArgs...)
	require.Equal(t, lr, r.opt.LR(), msgAndArgs...)
	require.Equal(t, optSD.Scalars, r.opt.StateDict().Scalars, msgAndArgs...)
	require.Equal(t, rng, tensor.DefaultGenerator().State(), msgAndArgs...)
	require.Equal(t, dataRNG, r.dataGen.State(), msgAndArgs...)
	require.Equal(t, 0, c.Epoch)
}

func TestCheckpointCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	r := newRun(resumeSetups[0], 1)
	r.epoch()
	require.NoError(t, SaveCheckpoint(path, r.checkpoint(1)))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	bad := filepath.Join(dir, "bad.safetensors")

	t.Run("truncated", func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 100, len(data) / 2, len(data) - 4, len(data) - 1} {
			require.NoError(t, os.WriteFile(bad, data[:n], 0o644))
			failedLoad(t, bad, ErrCorrupt, "truncated to %d bytes", n)
		}
	})
	t.Run("every byte flipped", func(t *testing.T) {
		// Flip one bit of every byte in turn: each damaged file must be
		// rejected (by the safetensors checks or the checksum), never
		// panic and never half-load. (In memory, to keep the test fast;
		// the last one goes through a file.)
		ckpt := newRun(resumeSetups[0], 5)
		var damaged []byte
		for i := range data {
			damaged = append(damaged[:0], data...)
			damaged[i] ^= 0x01
			c := ckpt.checkpoint(0)
			err := loadCheckpointBytes("damaged", &c, damaged)
			require.Error(t, err, "byte %d flipped", i)
			require.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrState), "byte %d: %v", i, err)
		}
		require.NoError(t, os.WriteFile(bad, damaged, 0o644))
		failedLoad(t, bad, ErrCorrupt)
	})
	t.Run("appended garbage", func(t *testing.T) {
		require.NoError(t, os.WriteFile(bad, append(append([]byte(nil), data...), 0, 0, 0, 0), 0o644))
		failedLoad(t, bad, ErrCorrupt)
	})
	t.Run("not a checkpoint", func(t *testing.T) {
		require.NoError(t, os.WriteFile(bad, []byte("definitely not a safetensors file"), 0o644))
		failedLoad(t, bad, ErrCorrupt)
		require.NoError(t, SaveState(bad, r.opt))
		failedLoad(t, bad, ErrCorrupt)
	})
	t.Run("missing file", func(t *testing.T) {
		c := r.checkpoint(0)
		err := LoadCheckpoint(filepath.Join(dir, "nope.safetensors"), &c)
		require.ErrorIs(t, err, os.ErrNotExist)
		require.Error(t, LoadCheckpoint(path, nil), "nil target")
	})
}

func TestCheckpointMismatches(t *testing.T) {
	dir := t.TempDir()
	r := newRun(resumeSetups[0], 1)
	r.epoch()
	save := func(c Checkpoint) string {
		path := filepath.Join(dir, "ckpt.safetensors")
		require.NoError(t, SaveCheckpoint(path, c))
		return path
	}
	state := r.model.state()
	extra := append(r.model.state(), NamedTensor{Name: "4.weight", Tensor: tensor.Zeros(2)})
	wrongShape := r.model.state()
	wrongShape[0].Tensor = tensor.Zeros(4, 3)
	wrongDType := r.model.state()
	wrongDType[1].Tensor = tensor.Of(tensor.Float64).Zeros(4)

	failedLoad(t, save(Checkpoint{ModelState: state[:3], Optimizer: r.opt, Scheduler: r.sched, DataGenerator: r.dataGen}), ErrState, "missing model tensor")
	failedLoad(t, save(Checkpoint{ModelState: extra, Optimizer: r.opt, Scheduler: r.sched, DataGenerator: r.dataGen}), ErrState, "extra model tensor")
	failedLoad(t, save(Checkpoint{ModelState: wrongShape, Optimizer: r.opt, Scheduler: r.sched, DataGenerator: r.dataGen}), ErrState, "model shape")
	failedLoad(t, save(Checkpoint{ModelState: wrongDType, Optimizer: r.opt, Scheduler: r.sched, DataGenerator: r.dataGen}), ErrState, "model dtype")

	other := newRun(resumeSetups[4], 1) // Adam and CosineAnnealingLR
	other.epoch()
	failedLoad(t, save(Checkpoint{ModelState: state, Optimizer: other.opt, Scheduler: r.sched, DataGenerator: r.dataGen}), ErrState, "optimizer kind")
	// The schedule refuses after the optimizer loaded: the optimizer is
	// rolled back.
	failedLoad(t, save(Checkpoint{ModelState: state, Optimizer: r.opt, Scheduler: other.sched, DataGenerator: r.dataGen}), ErrState, "schedule kind")
}

func TestSaveCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	r := newRun(resumeSetups[0], 1)
	require.NoError(t, SaveCheckpoint(path, r.checkpoint(1)))
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	for name, c := range map[string]Checkpoint{
		"nil tensor":     {ModelState: []NamedTensor{{Name: "w"}}},
		"empty name":     {ModelState: []NamedTensor{{Name: "", Tensor: tensor.Zeros(1)}}},
		"duplicate name": {ModelState: []NamedTensor{{Name: "w", Tensor: tensor.Zeros(1)}, {Name: "w", Tensor: tensor.Zeros(1)}}},
		"negative epoch": {Epoch: -1},
	} {
		require.Error(t, SaveCheckpoint(path, c), name)
	}
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, before, after, "a failed save leaves the previous checkpoint intact")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files are left behind")

	require.Error(t, SaveCheckpoint(filepath.Join(dir, "no/such/dir/ckpt.safetensors"), r.checkpoint(1)))
}

// TestCheckpointNNModuleResume resumes an nn model with dropout (which
// draws from the default generator) and batch-norm buffers (running
// statistics and an Int64 counter), given to the checkpoint as a Module.
func TestCheckpointNNModuleResume(t *testing.T) {
	const k, n = 4, 9
	x := tensor.Of(tensor.Float32).WithGenerator(tensor.NewGenerator(3)).Randn(16, 3)
	y := x.Sum(1).Gt(0).As(tensor.Float32).Reshape(16, 1)
	build := func(seed uint64) (nn.Module, Optimizer, Scheduler) {
		tensor.ManualSeed(seed)
		m := nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.25), nn.Linear(8, 1))
		opt := Adam(m.Parameters(), 0.01, AMSGrad())
		return m, opt, ExponentialLR(opt, 0.95)
	}
	lossFn := nn.BCEWithLogitsLoss()
	epoch := func(m nn.Module, opt Optimizer, s Scheduler) {
		opt.ZeroGrad()
		lossFn(m.Forward(autograd.Const(x)), autograd.Const(y)).Backward()
		opt.Step()
		s.Step()
	}
	weights := func(m nn.Module) [][]byte {
		var out [][]byte
		for _, e := range nn.StateDict(m) {
			out = append(out, e.Tensor.Bytes())
		}
		return out
	}

	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	m, opt, s := build(1)
	for range k {
		epoch(m, opt, s)
	}
	require.NoError(t, SaveCheckpoint(path, Checkpoint{Epoch: k, Model: m, Optimizer: opt, Scheduler: s}))
	for range n - k {
		epoch(m, opt, s)
	}

	m2, opt2, s2 := build(2)
	c := Checkpoint{Model: m2, Optimizer: opt2, Scheduler: s2}
	require.NoError(t, LoadCheckpoint(path, &c))
	for e := c.Epoch; e < n; e++ {
		epoch(m2, opt2, s2)
	}
	require.Equal(t, weights(m), weights(m2), "resumed training must give the same state bit for bit")

	// A model of another architecture does not fit.
	other := nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
	c = Checkpoint{Model: other}
	require.ErrorIs(t, LoadCheckpoint(path, &c), ErrState)
	c = Checkpoint{Model: other, ModelState: nn.StateDict(other)}
	require.Error(t, LoadCheckpoint(path, &c), "Model and ModelState together")
	require.Error(t, SaveCheckpoint(path, c))
}

// FuzzLoadCheckpoint loads checkpoints whose content the fuzzer edits
// and whose checksum is then recomputed: a random change to a file almost
// never survives the checksum, which would keep the fuzzer out of every
// check behind it. The input is a short script of edits to a valid
// checkpoint (an Adam AMSGrad run with a schedule): set a byte of a
// tensor's data, set a metadata value (from a list of troublesome values
// or the input's own bytes), swap two tensors' data, reshape, retype,
// rename or drop a tensor, drop or add a metadata entry. Short inputs
// keep each run and the minimisation of new inputs fast. (The file's
// structure is fuzzed by the safetensors reader's FuzzRead, and every
// byte of a checkpoint is flipped by TestCheckpointCorruptFiles.)
//
// Whatever the edits, the load must either fail with ErrCorrupt or
// ErrState and leave the targets as they were, or succeed with exactly
// the file's weights, finite, and an optimizer state that passes the
// value checks.
func FuzzLoadCheckpoint(f *testing.F) {
	r := newRun(resumeSetups[4], 1)
	r.epoch()
	path := filepath.Join(f.TempDir(), "ckpt.safetensors")
	require.NoError(f, SaveCheckpoint(path, r.checkpoint(1)))
	st, err := safetensors.ReadFile(path)
	require.NoError(f, err)
	base, err := st.Tensors()
	require.NoError(f, err)
	baseMeta := st.Metadata()
	require.NoError(f, st.Close())

	f.Add([]byte{})                          // the valid checkpoint
	f.Add([]byte{0, 3, 0, 7, 0xff})          // a NaN exponent byte in a tensor
	f.Add([]byte{1, 5, 2})                   // a metadata value from the list
	f.Add([]byte{2, 1, 2})                   // two tensors' data swapped
	f.Add([]byte{3, 4, 1, 6, 7, 1, 1, 2, 3}) // reshape, retype, rename
	f.Add([]byte{5, 2, 6, 9, 1, 0x80})       // drop a tensor, drop and add metadata
	f.Add([]byte{1, 0, 0x80, '1', 'e', '9'}) // a metadata value from the input

	// The target is built once; a successful load is undone after it.
	target := newRun(resumeSetups[4], 2)
	target.epoch()
	weights := target.model.state()
	saved := make([][]byte, len(weights))
	for i, w := range weights {
		saved[i] = w.Tensor.Bytes()
	}
	optSD, schedSD := target.opt.StateDict(), target.sched.StateDict()
	f.Fuzz(func(t *testing.T, script []byte) {
		file := editCheckpoint(base, baseMeta, script)
		c := target.checkpoint(0)
		err := loadCheckpointBytes("fuzz", &c, file)
		if err != nil {
			require.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrState), "%v", err)
			for i, w := range weights {
				require.Equal(t, saved[i], w.Tensor.Bytes(), "a failed load changed %q", w.Name)
			}
			require.Equal(t, optSD.Scalars, target.opt.StateDict().Scalars, "a failed load changed the optimizer")
			return
		}
		// Loaded: the model holds the file's weights, all finite, and
		// what the optimizer took passes the checks of a file.
		st, err := safetensors.Read(bytes.NewReader(file), int64(len(file)))
		require.NoError(t, err)
		for _, w := range weights {
			want, err := st.Tensor(prefixModel + w.Name)
			require.NoError(t, err)
			require.Equal(t, want.Data, w.Tensor.Bytes(), "model tensor %q", w.Name)
			bad, err := badValue(w.Tensor, false, false)
			require.NoError(t, err)
			require.Empty(t, bad, "model tensor %q", w.Name)
		}
		sd := target.opt.StateDict()
		require.True(t, sd.Scalars[keyLR] >= 0 && sd.Scalars[keyLR] <= math.MaxFloat32)
		for name, v := range sd.Tensors {
			_, slot, _ := strings.Cut(strings.TrimPrefix(name, statePrefix), ".")
			bad, err := badValue(v, false, squaredSlots[slot])
			require.NoError(t, err)
			require.Empty(t, bad, "state tensor %q", name)
		}
		// Undo the load for the next run.
		for i, w := range weights {
			restored, err := tensor.FromBytes(w.Tensor.DType(), w.Tensor.Shape(), saved[i])
			require.NoError(t, err)
			w.Tensor.CopyFrom(restored)
		}
		require.NoError(t, target.opt.LoadStateDict(optSD))
		require.NoError(t, target.sched.LoadStateDict(schedSD))
	})
}

// fuzzValues are metadata values that have broken parsers.
var fuzzValues = []string{"", "-1", "0", "1", "2", "0.5", "1.5", "-0", "1e308", "-1e308", "NaN", "+Inf", "-Inf",
	"1e-320", "9007199254740993", "99999999999999999999", "18446744073709551616", "+3", "03", "0x10", " 1", "abc"}

// editCheckpoint applies a fuzz script to a checkpoint's tensors and
// metadata and returns the file, with its checksum recomputed. Each edit
// is an opcode byte and operand bytes (missing operands read as zeros);
// an edit that would not make a writable file is skipped.
func editCheckpoint(base []safetensors.Tensor, baseMeta map[string]string, script []byte) []byte {
	ts := make([]safetensors.Tensor, len(base))
	for i, t := range base {
		ts[i] = safetensors.Tensor{Name: t.Name, DType: t.DType, Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
	}
	meta := maps.Clone(baseMeta)
	next := func() int {
		if len(script) == 0 {
			return 0
		}
		b := script[0]
		script = script[1:]
		return int(b)
	}
	keys := func() []string { return sortedKeys(meta) }
	for len(script) > 0 {
		op := next() % 7
		if op == 6 || len(ts) == 0 {
			op = 1 // metadata only
		}
		switch op {
		case 0: // set a data byte
			t := &ts[next()%len(ts)]
			if pos := next()<<8 | next(); len(t.Data) > 0 {
				t.Data[pos%len(t.Data)] = byte(next())
			}
		case 1: // set a metadata value
			ks := keys()
			k := ks[next()%len(ks)]
			if v := next(); v < 0x80 {
				meta[k] = fuzzValues[v%len(fuzzValues)]
			} else {
				n := min(v-0x80, len(script))
				meta[k], script = strings.ToValidUTF8(string(script[:n]), "?"), script[n:]
			}
		case 2: // swap two tensors' data (of one length)
			a, b := &ts[next()%len(ts)], &ts[next()%len(ts)]
			if len(a.Data) == len(b.Data) {
				a.Data, b.Data = b.Data, a.Data
			}
		case 3: // reshape: move a factor between two dimensions
			t := &ts[next()%len(ts)]
			if len(t.Shape) > 0 {
				i, j, k := next()%len(t.Shape), next()%(len(t.Shape)+1), next()%4+1
				if t.Shape[i]%k == 0 {
					t.Shape[i] /= k
					if j == len(t.Shape) {
						t.Shape = append(t.Shape, k)
					} else {
						t.Shape[j] *= k
					}
				}
			}
		case 4: // retype: float32 data read as another 4-byte-aligned type
			t := &ts[next()%len(ts)]
			switch next() % 3 {
			case 0:
				if len(t.Data)%8 == 0 && len(t.Shape) > 0 && t.Shape[len(t.Shape)-1]%2 == 0 {
					t.DType, t.Shape[len(t.Shape)-1] = tensor.Float64, t.Shape[len(t.Shape)-1]/2
				}
			case 1:
				t.DType, t.Shape = tensor.Uint8, []int{len(t.Data)}
			case 2:
				if len(t.Data)%8 == 0 {
					t.DType, t.Shape = tensor.Int64, []int{len(t.Data) / 8}
				}
			}
		case 5: // rename or drop a tensor, drop or add metadata
			i := next() % len(ts)
			switch next() % 4 {
			case 0:
				ts = append(ts[:i], ts[i+1:]...)
			case 1:
				ts[i].Name = ts[next()%len(ts)].Name + "x"
			case 2:
				ks := keys()
				delete(meta, ks[next()%len(ks)])
			case 3:
				ks := keys()
				meta[ks[next()%len(ks)]+"x"] = fuzzValues[next()%len(fuzzValues)]
			}
		}
	}
	if len(meta) == 0 {
		meta = nil
	}
	var buf bytes.Buffer
	if meta != nil {
		meta[metaChecksum] = checksum(ts, meta)
	}
	if err := safetensors.Write(&buf, ts, meta); err != nil {
		// Two tensors of one name, or a shape that no longer fits:
		// fall back to the edits' metadata on the original tensors.
		buf.Reset()
		if meta != nil {
			meta[metaChecksum] = checksum(base, meta)
		}
		if err := safetensors.Write(&buf, base, meta); err != nil {
			panic(err) // the edits' metadata is valid UTF-8, the base tensors valid
		}
	}
	return buf.Bytes()
}

// TestCheckpointGeneratorState saves both generators mid-stream (a
// cached normal value pending, Philox counters used by dropout) and
// checks that loading restores every part: the next draws, normal and
// dropout, are the ones the saved generators would have made.
func TestCheckpointGeneratorState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	tensor.ManualSeed(31)
	tensor.Randn(3) // a Box-Muller pair's second value stays cached
	tensorOps.Dropout(tensor.Ones(17), 0.5, nil)
	data := tensor.NewGenerator(8)
	tensor.Options{}.WithGenerator(data).RandPerm(50)
	require.NoError(t, SaveCheckpoint(path, Checkpoint{Epoch: 2, DataGenerator: data}))

	next := func(data *tensor.Generator) [][]float32 {
		y, _, _ := tensorOps.Dropout(tensor.Ones(9), 0.5, nil)
		perm := tensor.Options{}.WithGenerator(data).RandPerm(20).As(tensor.Float32)
		return [][]float32{tensor.Randn(1).Float32s(), tensor.Randn(20).Float32s(), y.Float32s(), perm.Float32s()}
	}
	want := next(data)
	tensor.ManualSeed(1) // elsewhere
	other := tensor.NewGenerator(2)
	c := Checkpoint{DataGenerator: other}
	require.NoError(t, LoadCheckpoint(path, &c))
	require.Equal(t, 2, c.Epoch)
	require.Equal(t, want, next(other))

	// The file holds the generator states as Uint8 tensors whose first
	// 5056 bytes are torch.get_rng_state()'s layout.
	f, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Tensor(tensorRNG)
	require.NoError(t, err)
	require.Equal(t, tensor.Uint8, st.DType)
	require.Equal(t, []int{tensor.StateSize}, st.Shape)
	require.Equal(t, uint64(31), binary.LittleEndian.Uint64(st.Data))
}

// TestCheckpointOldGenerator refuses, with a message that says why, a
// checkpoint of the Philox-only generator nabla had before it drew
// PyTorch's streams.
func TestCheckpointOldGenerator(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.safetensors")
	var b bundle
	b.setMeta(metaEpoch, "3")
	b.setMeta("rng.seed", "777")
	b.setMeta("rng.offset", "120")
	require.NoError(t, b.writeFile(path, formatCheckpoint))
	before := tensor.DefaultGenerator().State()
	var c Checkpoint
	err := LoadCheckpoint(path, &c)
	require.ErrorIs(t, err, ErrState)
	require.ErrorContains(t, err, "earlier nabla")
	require.Equal(t, before, tensor.DefaultGenerator().State())

	// A damaged state is corrupt, and nothing is loaded.
	b = bundle{}
	b.setMeta(metaEpoch, "3")
	bad := tensor.NewGenerator(1).State()
	bad[8] = 0 // left = 0: no Mersenne Twister is ever there
	require.NoError(t, b.addTensor(tensorRNG, tensor.FromSlice(bad)))
	require.NoError(t, b.writeFile(path, formatCheckpoint))
	err = LoadCheckpoint(path, &c)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "left=0")
	require.Equal(t, before, tensor.DefaultGenerator().State())
}
