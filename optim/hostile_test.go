package optim

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/safetensors"
	"github.com/nabla-go/nabla/internal/testfile"
	"github.com/nabla-go/nabla/tensor"
)

// claim is one tensor a hostile header declares.
type claim struct {
	name  string
	dtype string
	shape []int64
	bytes int64
}

// sparseCheckpoint writes a checkpoint whose header declares the claimed
// tensors, back to back, and valid format metadata with a checksum that
// does not match, as a sparse file exactly as long as the header says: the
// safetensors structure is valid, so only the loader's own checks stand
// between the header and an allocation of the claimed sizes.
func sparseCheckpoint(t *testing.T, path string, claims ...claim) {
	t.Helper()
	header := map[string]any{safetensors.MetadataKey: map[string]string{
		metaFormat: formatCheckpoint, metaVersion: formatVersion, metaChecksum: "crc32c:00000000",
		metaEpoch: "1",
	}}
	var off int64
	for _, c := range claims {
		header[c.name] = map[string]any{"dtype": c.dtype, "shape": c.shape, "data_offsets": []int64{off, off + c.bytes}}
		off += c.bytes
	}
	js, err := json.Marshal(header)
	require.NoError(t, err)
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	head := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	head = append(head, js...)
	testfile.Sparse(t, path, head, int64(len(head))+off)
}

// TestLoadCheckpointChecksBeforeReading loads checkpoints whose headers
// claim tensors of terabytes that do not fit the model or the optimizer:
// the structure is valid (the sparse file is as long as the header says),
// so it is the check of names, shapes and dtypes against the targets,
// before any data is read, that must refuse them. Before it, such a file
// ended the process with Go's fatal out-of-memory error.
func TestLoadCheckpointChecksBeforeReading(t *testing.T) {
	const tb = 1 << 40 // 4e12 bytes would do; 2^40 elements of float32 are 4 TiB
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		claims []claim
		msg    string
	}{
		{"model tensor of another shape", []claim{{"model.0.weight", "F32", []int64{1 << 20, 1 << 20}, 4 * tb}},
			`model tensor "0.weight" has shape [1048576 1048576] in the checkpoint, [3 4] in the model`},
		{"model tensor the model does not have", []claim{{"model.9.weight", "U8", []int64{tb}, tb}},
			`the checkpoint has a model tensor "9.weight" that the model does not`},
		{"optimizer state of another shape", []claim{{"optimizer.state.0.exp_avg", "F32", []int64{1 << 20, 1 << 20}, 4 * tb}},
			`tensor "optimizer.state.0.exp_avg" is float32 of shape [1048576 1048576], but parameter 0 is float32 of shape [3 4]`},
		{"optimizer state of another dtype", []claim{{"optimizer.state.1.exp_avg", "F64", []int64{4}, 32}},
			`parameter 1 is float32`},
		{"optimizer state of a parameter that does not exist", []claim{{"optimizer.state.7.exp_avg", "F32", []int64{tb}, 4 * tb}},
			`state.<i>.<slot> with i below 4`},
		{"a tensor outside every part", []claim{{"junk", "F32", []int64{tb}, 4 * tb}}, `unexpected tensor "junk"`},
		{"a schedule with a tensor", []claim{{"scheduler.x", "F32", []int64{tb}, 4 * tb}}, `a schedule's state has no tensors`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "ckpt.safetensors")
			// The model's own tensors besides the claimed ones, so that the
			// claim is the only thing wrong.
			claims := c.claims
			for _, m := range []claim{{"model.0.weight", "F32", []int64{3, 4}, 48}, {"model.0.bias", "F32", []int64{4}, 16},
				{"model.2.weight", "F32", []int64{4, 1}, 16}, {"model.2.bias", "F32", []int64{1}, 4}} {
				if !slices.ContainsFunc(claims, func(c claim) bool { return c.name == m.name }) {
					claims = append(claims, m)
				}
			}
			sparseCheckpoint(t, path, claims...)
			r := newRun(resumeSetups[4], 1)
			r.epoch() // Adam with state
			ck := r.checkpoint(0)
			var err error
			alloc := testfile.Allocated(func() { err = LoadCheckpoint(path, &ck) })
			require.ErrorIs(t, err, ErrState)
			require.ErrorContains(t, err, c.msg)
			require.Less(t, alloc, uint64(1<<20), "allocated %d bytes", alloc)
		})
	}
}

// TestLoadCheckpointSkipsInChunks loads only the model of a checkpoint
// that also holds 64 MiB of optimizer state: the state is checksummed
// through a small buffer, not read into memory.
func TestLoadCheckpointSkipsInChunks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	sparseCheckpoint(t, path,
		claim{"model.w", "F32", []int64{4}, 16},
		claim{"optimizer.state.0.exp_avg", "F32", []int64{16 << 20}, 64 << 20})
	ck := Checkpoint{ModelState: []NamedTensor{{Name: "w", Tensor: tensor.Zeros(4)}}}
	var err error
	alloc := testfile.Allocated(func() { err = LoadCheckpoint(path, &ck) })
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "checksum mismatch")
	require.Less(t, alloc, uint64(4<<20), "allocated %d bytes", alloc)
}

// TestLoadCheckpointReadsOnce loads a checkpoint with a 32 MiB weight:
// the load allocates the weight's size once (the tensor it is read into
// before it is validated and copied into the model) and a small constant.
func TestLoadCheckpointReadsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	w := tensor.Ones(8 << 20)
	require.NoError(t, SaveCheckpoint(path, Checkpoint{Epoch: 2, ModelState: []NamedTensor{{Name: "w", Tensor: w}}}))
	target := tensor.Zeros(8 << 20)
	ck := Checkpoint{ModelState: []NamedTensor{{Name: "w", Tensor: target}}}
	var err error
	alloc := testfile.Allocated(func() { err = LoadCheckpoint(path, &ck) })
	require.NoError(t, err)
	require.Equal(t, 2, ck.Epoch)
	require.Equal(t, float64(8<<20), target.Sum().Item())
	require.Less(t, alloc, uint64(32<<20+2<<20), "allocated %d bytes for 32 MiB of weights", alloc)
}

// rewrite applies edit to the tensors and metadata of the checkpoint at
// path and writes it back with a recomputed checksum: the file is then
// sound as far as the checksum can tell, and only the loader's semantic
// checks stand between its content and the targets.
func rewrite(t *testing.T, path string, edit func(ts map[string]*safetensors.Tensor, meta map[string]string)) {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	list, err := f.Tensors()
	require.NoError(t, err)
	meta := f.Metadata()
	require.NoError(t, f.Close())
	ts := map[string]*safetensors.Tensor{}
	for i := range list {
		ts[list[i].Name] = &list[i]
	}
	edit(ts, meta)
	var out []safetensors.Tensor
	for _, name := range sortedKeys(ts) {
		out = append(out, *ts[name])
	}
	meta[metaChecksum] = checksum(out, meta)
	require.NoError(t, safetensors.WriteFile(path, out, meta))
}

// setF32 sets element i of a float32 tensor's data.
func setF32(st *safetensors.Tensor, i int, v float32) {
	binary.LittleEndian.PutUint32(st.Data[4*i:], math.Float32bits(v))
}

// TestLoadCheckpointSemantics feeds checkpoints whose content is nonsense
// with a correct checksum: each must be refused with an error that names
// the entry at fault, leaving the targets as they were.
func TestLoadCheckpointSemantics(t *testing.T) {
	dir := t.TempDir()
	src := newRun(resumeSetups[4], 1) // Adam AMSGrad with weight decay, CosineAnnealingLR
	src.epoch()
	goodPath := filepath.Join(dir, "good.safetensors")
	require.NoError(t, SaveCheckpoint(goodPath, src.checkpoint(1)))
	good, err := os.ReadFile(goodPath)
	require.NoError(t, err)

	type edit = func(ts map[string]*safetensors.Tensor, meta map[string]string)
	for _, c := range []struct {
		name        string
		edit        edit
		sentinel    error
		msg         string
		nonFiniteOK bool // loads with AllowNonFinite
	}{
		{"negative epoch", func(_ map[string]*safetensors.Tensor, m map[string]string) { m[metaEpoch] = "-3" }, ErrCorrupt, `"epoch" = "-3"`, false},
		{"epoch with a sign", func(_ map[string]*safetensors.Tensor, m map[string]string) { m[metaEpoch] = "+3" }, ErrCorrupt, `"epoch" = "+3"`, false},
		{"learning rate 1e308", func(_ map[string]*safetensors.Tensor, m map[string]string) { m["optimizer.scalar.lr"] = "1e308" },
			ErrState, "invalid lr 1e+308: the parameters are float32", false},
		{"learning rate NaN", func(_ map[string]*safetensors.Tensor, m map[string]string) { m["optimizer.scalar.lr"] = "NaN" },
			ErrState, "invalid learning rate NaN", false},
		{"beta2 of 1.5", func(_ map[string]*safetensors.Tensor, m map[string]string) { m["optimizer.scalar.beta2"] = "1.5" },
			ErrState, "beta2", false},
		{"eps of +Inf", func(_ map[string]*safetensors.Tensor, m map[string]string) { m["optimizer.scalar.eps"] = "+Inf" },
			ErrState, "eps", false},
		{"negative step count", func(_ map[string]*safetensors.Tensor, m map[string]string) { m["optimizer.scalar.state.0.step"] = "-2" },
			ErrState, `"state.0.step" is -2, not a step count`, false},
		{"schedule at a negative epoch", func(_ map[string]*safetensors.Tensor, m map[string]string) { m["scheduler.scalar.last_epoch"] = "-2" },
			ErrState, "invalid last_epoch -2", false},
		{"NaN weight", func(ts map[string]*safetensors.Tensor, _ map[string]string) {
			setF32(ts["model.0.weight"], 5, float32(math.NaN()))
		},
			ErrState, `model tensor "0.weight" is not finite: element 5 is NaN (set Checkpoint.AllowNonFinite to load it anyway)`, true},
		{"infinite bias", func(ts map[string]*safetensors.Tensor, _ map[string]string) {
			setF32(ts["model.2.bias"], 0, float32(math.Inf(-1)))
		},
			ErrState, `model tensor "2.bias" is not finite: element 0 is -Inf`, true},
		{"NaN Adam state", func(ts map[string]*safetensors.Tensor, _ map[string]string) {
			setF32(ts["optimizer.state.1.exp_avg"], 2, float32(math.NaN()))
		}, ErrState, `tensor "state.1.exp_avg" is not finite: element 2 is NaN`, true},
		{"negative second moment", func(ts map[string]*safetensors.Tensor, _ map[string]string) {
			setF32(ts["optimizer.state.0.exp_avg_sq"], 3, -1e-6)
			setF32(ts["optimizer.state.0.max_exp_avg_sq"], 3, -1e-6)
		}, ErrState, `tensor "state.0.exp_avg_sq" is not a finite non-negative number, as an average or sum of squares must be: element 3 is -1e-06`, false},
		{"AMSGrad maximum below the average", func(ts map[string]*safetensors.Tensor, _ map[string]string) {
			setF32(ts["optimizer.state.2.max_exp_avg_sq"], 0, 0)
			setF32(ts["optimizer.state.2.exp_avg_sq"], 0, 1)
		}, ErrState, `"state.2.max_exp_avg_sq" is below "state.2.exp_avg_sq"`, false},
		{"first and second moments swapped", func(ts map[string]*safetensors.Tensor, _ map[string]string) {
			a, b := ts["optimizer.state.0.exp_avg"], ts["optimizer.state.0.exp_avg_sq"]
			a.Data, b.Data = b.Data, a.Data
		}, ErrState, `"state.0.exp_avg_sq" is not a finite non-negative number`, false},
		{"a weight and its second moment swapped", func(ts map[string]*safetensors.Tensor, _ map[string]string) {
			a, b := ts["model.0.weight"], ts["optimizer.state.0.max_exp_avg_sq"]
			a.Data, b.Data = b.Data, a.Data
		}, ErrState, `"state.0.max_exp_avg_sq" is not a finite non-negative number`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "ckpt.safetensors")
			require.NoError(t, os.WriteFile(path, good, 0o644))
			rewrite(t, path, c.edit)
			r := newRun(resumeSetups[4], 5)
			r.epoch()
			weights, lr, sd := r.model.weights(), r.opt.LR(), r.opt.StateDict()
			ck := r.checkpoint(0)
			err := LoadCheckpoint(path, &ck)
			require.Error(t, err)
			require.True(t, errors.Is(err, c.sentinel), "%v", err)
			require.ErrorContains(t, err, c.msg)
			require.Equal(t, weights, r.model.weights(), "the model is unchanged")
			require.Equal(t, lr, r.opt.LR())
			require.Equal(t, sd.Scalars, r.opt.StateDict().Scalars, "the optimizer is unchanged")
			require.Zero(t, ck.Epoch)

			ck.AllowNonFinite = true
			err = LoadCheckpoint(path, &ck)
			if c.nonFiniteOK {
				require.NoError(t, err, "AllowNonFinite loads it")
				require.Equal(t, 1, ck.Epoch)
			} else {
				require.Error(t, err)
			}
		})
	}
}

// TestSaveCheckpointRemovesLeftovers: a save killed before its rename
// leaves its temporary file; the next save to the same place removes it.
func TestSaveCheckpointRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint.safetensors")
	left := filepath.Join(dir, ".checkpoint.safetensors.tmp-2718281828")
	require.NoError(t, os.WriteFile(left, nil, 0o600)) // what kill -9 left
	r := newRun(resumeSetups[0], 1)
	require.NoError(t, SaveCheckpoint(path, r.checkpoint(1)))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "checkpoint.safetensors", entries[0].Name())
}
