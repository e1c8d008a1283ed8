package optim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/internal/safetensors"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// NamedTensor is one named tensor of a model's state, under PyTorch's key
// names: {"0.weight", w}. It is nn.NamedTensor, so nn.StateDict(m) can be
// used directly as a Checkpoint's ModelState. For a parameter the tensor is
// the Var's Detach(), which shares memory with the parameter, so that
// loading a checkpoint into it updates the model in place.
type NamedTensor = nn.NamedTensor

// Checkpoint is the state of a training run, everything needed to resume
// it exactly: the epoch, the model's tensors, the optimizer's and the
// schedule's state, and the random generators' states.
//
// For SaveCheckpoint the fields are what to save; for LoadCheckpoint they
// are the targets to load into (and Epoch and Metadata are filled in).
// Resuming from a checkpoint written after epoch k gives, on the CPU, the
// same weights bit for bit as a run that was never interrupted:
//
//	ckpt := optim.Checkpoint{Model: model, Optimizer: opt, Scheduler: sched}
//	if err := optim.LoadCheckpoint(path, &ckpt); err == nil {
//		start = ckpt.Epoch
//	}
//	for epoch := start; epoch < epochs; epoch++ {
//		train(epoch)
//		sched.Step()
//		ckpt.Epoch = epoch + 1
//		if err := optim.SaveCheckpoint(path, ckpt); err != nil { ... }
//	}
type Checkpoint struct {
	// Epoch is where the run stands; by convention the number of epochs
	// completed, so that a resumed loop starts at Epoch.
	Epoch int
	// Model is the model whose parameters and buffers (nn.StateDict) are
	// saved or restored. Loading is strict, as nn.LoadStateDict: the file
	// must hold exactly the model's keys, with the same shapes and dtypes;
	// the values are copied into the model's tensors in place, onto the
	// devices they live on. Leave Model and ModelState empty to save no
	// model or to skip loading it.
	Model nn.Module
	// ModelState is the model's state as named tensors, for a model that
	// is not an nn.Module (or for extra tensors to keep with the model);
	// it is saved and loaded like Model's state. Names must be unique. At
	// most one of Model and ModelState may be set.
	ModelState []NamedTensor
	// Optimizer, when not nil, has its state saved or restored (learning
	// rate included).
	Optimizer Optimizer
	// Scheduler, when not nil, has its state saved or restored: any
	// Scheduler, or a *PlateauScheduler (which steps with a metric and so
	// is not a Scheduler).
	Scheduler Stateful
	// Generator is the random generator whose state is saved and
	// restored; nil means tensor.DefaultGenerator(), which draws
	// initialisations, dropout masks and default shuffles.
	Generator *tensor.Generator
	// DataGenerator, when not nil, is a second generator to save and
	// restore, such as a data loader's shuffling generator.
	DataGenerator *tensor.Generator
	// Metadata holds free-form strings saved with the checkpoint (for
	// example a run name or a git commit). LoadCheckpoint replaces it with
	// the file's.
	Metadata map[string]string
	// AllowNonFinite makes LoadCheckpoint accept NaN and infinite values
	// in the model's tensors and the optimizer's state, which it otherwise
	// refuses, naming the tensor: a run that diverged can still be loaded
	// for inspection. SaveCheckpoint ignores it.
	AllowNonFinite bool
}

// Checkpoint file layout: tensors "model.<name>" and "optimizer.<name>",
// metadata for the rest.
const (
	prefixModel     = "model."
	prefixOptimizer = "optimizer."
	prefixScheduler = "scheduler."
	prefixUser      = "user."
	metaEpoch       = "epoch"
	// The generators' states (tensor.Generator.State) are Uint8 tensors.
	tensorRNG     = "rng.state"
	tensorDataRNG = "data_rng.state"
	// Checkpoints of the Philox-only generator that came before kept a
	// seed and an offset as metadata; they are recognised and refused.
	metaOldRNGSeed = "rng.seed"
)

// SaveCheckpoint writes c to a safetensors file at path, atomically: the
// file is written under a temporary name, fsynced and renamed over path,
// so a crash mid-write leaves the previous checkpoint intact. The file
// holds the model's tensors as "model.<name>" and the optimizer's as
// "optimizer.<name>", the generators' states as the Uint8 tensors
// "rng.state" and "data_rng.state" (tensor.Generator.State; the first
// 5056 bytes are PyTorch's torch.get_rng_state()); the epoch, the scalars
// of the optimizer and the schedule and c.Metadata ("user.<key>") are
// metadata, and a checksum covers it all.
func SaveCheckpoint(path string, c Checkpoint) error {
	if c.Epoch < 0 {
		return fmt.Errorf("optim: SaveCheckpoint: negative epoch %d", c.Epoch)
	}
	modelState, err := c.modelTargets("SaveCheckpoint")
	if err != nil {
		return err
	}
	var b bundle
	b.setMeta(metaEpoch, strconv.Itoa(c.Epoch))
	seen := map[string]bool{}
	for i, nt := range modelState {
		switch {
		case nt.Name == "":
			return fmt.Errorf("optim: SaveCheckpoint: model tensor %d has no name", i)
		case seen[nt.Name]:
			return fmt.Errorf("optim: SaveCheckpoint: model tensor name %q appears twice", nt.Name)
		}
		seen[nt.Name] = true
		if err := b.addTensor(prefixModel+nt.Name, nt.Tensor); err != nil {
			return err
		}
	}
	if c.Optimizer != nil {
		if err := b.addStateDict(prefixOptimizer, c.Optimizer.StateDict()); err != nil {
			return err
		}
	}
	if c.Scheduler != nil {
		if err := b.addStateDict(prefixScheduler, c.Scheduler.StateDict()); err != nil {
			return err
		}
	}
	gen := c.Generator
	if gen == nil {
		gen = tensor.DefaultGenerator()
	}
	if err := b.addTensor(tensorRNG, tensor.FromSlice(gen.State())); err != nil {
		return err
	}
	if c.DataGenerator != nil {
		if err := b.addTensor(tensorDataRNG, tensor.FromSlice(c.DataGenerator.State())); err != nil {
			return err
		}
	}
	for k, v := range c.Metadata {
		b.setMeta(prefixUser+k, v)
	}
	return b.writeFile(path, formatCheckpoint)
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint into the
// targets c names: the model's tensors (in place), the optimizer, the
// schedule and the generators; it sets c.Epoch and c.Metadata. A nil
// Optimizer, Scheduler or DataGenerator, or no model, is skipped even when
// the file holds that part (to load only the weights for evaluation, set
// only Model); one that is given but missing from the file is an error.
//
// The file is treated as hostile, and everything is validated before
// anything changes: first the file's structure and every tensor's name,
// shape and dtype against the targets (the model's tensors, the
// optimizer's parameters), before any data is read, so that a header
// claiming a huge tensor costs nothing; then the data, read straight into
// tensors of the checked sizes (under the CPU memory limit) with the
// checksum; then the values: the epoch and the generator states, the
// optimizer's hyperparameters (finite, in their ranges, representable in
// the parameters' dtype) and state (finite, second moments non-negative,
// consistent with each other), and the model's weights, which must be
// finite unless c.AllowNonFinite is set. A truncated, damaged, mismatched
// or nonsensical file gives an error wrapping ErrCorrupt or ErrState,
// naming the tensor or entry at fault, never a panic; the targets are
// then left as they were.
func LoadCheckpoint(path string, c *Checkpoint) error {
	if c == nil {
		return fmt.Errorf("optim: LoadCheckpoint: nil *Checkpoint")
	}
	f, err := openBundle(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return loadCheckpoint(path, c, f)
}

// loadCheckpointBytes is LoadCheckpoint for a file's contents in memory.
func loadCheckpointBytes(name string, c *Checkpoint, data []byte) error {
	f, err := openBundleBytes(name, data)
	if err != nil {
		return err
	}
	return loadCheckpoint(name, c, f)
}

// loadCheckpoint implements LoadCheckpoint on an opened file.
func loadCheckpoint(path string, c *Checkpoint, f *safetensors.File) error {
	targets, err := c.modelTargets("LoadCheckpoint")
	if err != nil {
		return err
	}
	byName, err := checkTargets(targets)
	if err != nil {
		return err
	}
	rb, err := newReadBundle(path, f, formatCheckpoint)
	if err != nil {
		return err
	}
	// Names, shapes and dtypes first: only what fits a target is read.
	for _, nt := range targets {
		if _, ok := f.Info(prefixModel + nt.Name); !ok {
			return rb.errorf("the checkpoint has no model tensor %q", nt.Name)
		}
	}
	if err := rb.read(func(name string, info safetensors.TensorInfo) (bool, error) {
		switch {
		case strings.HasPrefix(name, prefixModel):
			if len(targets) == 0 {
				return false, nil
			}
			return true, expectModel(rb, byName, strings.TrimPrefix(name, prefixModel), info)
		case strings.HasPrefix(name, prefixOptimizer):
			if c.Optimizer == nil {
				return false, nil
			}
			return true, expectState(rb, c.Optimizer, prefixOptimizer, strings.TrimPrefix(name, prefixOptimizer), info)
		case strings.HasPrefix(name, prefixScheduler):
			if c.Scheduler == nil {
				return false, nil
			}
			return true, expectState(rb, c.Scheduler, prefixScheduler, strings.TrimPrefix(name, prefixScheduler), info)
		case name == tensorRNG || name == tensorDataRNG:
			if name == tensorDataRNG && c.DataGenerator == nil {
				return false, nil
			}
			return true, expectGeneratorState(rb, name, info)
		}
		return false, rb.errorf("unexpected tensor %q", name)
	}); err != nil {
		return err
	}

	// Parse and validate everything before changing anything.
	epochStr, _ := rb.metaValue(metaEpoch)
	epoch, err := strconv.Atoi(epochStr)
	if err != nil || epoch < 0 || strconv.Itoa(epoch) != epochStr {
		return rb.corruptf("metadata %q = %q is not an epoch number", metaEpoch, epochStr)
	}
	rngState, err := rb.generatorState(tensorRNG)
	if err != nil {
		return err
	}
	var dataState []byte
	if c.DataGenerator != nil {
		if dataState, err = rb.generatorState(tensorDataRNG); err != nil {
			return err
		}
	} else {
		rb.used[tensorDataRNG] = true
	}
	model, err := rb.modelState(targets, c.AllowNonFinite)
	if err != nil {
		return err
	}
	var optSD, schedSD StateDict
	if c.Optimizer != nil {
		if optSD, err = rb.stateDict(prefixOptimizer); err != nil {
			return err
		}
	} else {
		rb.skip(prefixOptimizer)
	}
	if c.Scheduler != nil {
		if schedSD, err = rb.stateDict(prefixScheduler); err != nil {
			return err
		}
	} else {
		rb.skip(prefixScheduler)
	}
	user := map[string]string{}
	for _, k := range sortedKeys(rb.meta) {
		if name, ok := strings.CutPrefix(k, prefixUser); ok {
			user[name], _ = rb.metaValue(k)
		}
	}
	if err := rb.checkAllUsed(); err != nil {
		return err
	}

	// Commit: the optimizer and the schedule validate before they change;
	// undo the optimizer when the schedule refuses.
	var prevOpt StateDict
	if c.Optimizer != nil {
		prevOpt = c.Optimizer.StateDict()
		var err error
		if o, ok := c.Optimizer.(*optimizer); ok {
			// The state tensors are the bundle's own: kept without a copy.
			err = o.loadStateDict(optSD, true, c.AllowNonFinite)
		} else {
			err = c.Optimizer.LoadStateDict(optSD)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	var prevSched StateDict
	if c.Scheduler != nil {
		prevSched = c.Scheduler.StateDict()
		if err := c.Scheduler.LoadStateDict(schedSD); err != nil {
			if c.Optimizer != nil {
				c.Optimizer.LoadStateDict(prevOpt)
			}
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := tensor.Catch(func() {
		for i, nt := range targets {
			nt.Tensor.CopyFrom(model[i].To(nt.Tensor.Device()))
		}
	}); err != nil {
		if c.Optimizer != nil {
			c.Optimizer.LoadStateDict(prevOpt)
		}
		if c.Scheduler != nil {
			c.Scheduler.LoadStateDict(prevSched)
		}
		return fmt.Errorf("optim: %s: loading the model: %w", path, err)
	}
	gen := c.Generator
	if gen == nil {
		gen = tensor.DefaultGenerator()
	}
	// Both states were validated by generatorState, so neither fails.
	if err := gen.SetState(rngState); err != nil {
		return fmt.Errorf("optim: %s: %w", path, err)
	}
	if c.DataGenerator != nil {
		if err := c.DataGenerator.SetState(dataState); err != nil {
			return fmt.Errorf("optim: %s: %w", path, err)
		}
	}
	c.Epoch = epoch
	c.Metadata = user
	return nil
}

// checkTargets checks the model's named tensors (no nil tensor, no name
// twice) and returns them by name.
func checkTargets(targets []NamedTensor) (map[string]*tensor.Tensor, error) {
	byName := make(map[string]*tensor.Tensor, len(targets))
	for _, nt := range targets {
		switch _, dup := byName[nt.Name]; {
		case nt.Tensor == nil:
			return nil, fmt.Errorf("optim: LoadCheckpoint: model tensor %q is nil", nt.Name)
		case dup:
			return nil, fmt.Errorf("optim: LoadCheckpoint: model tensor name %q appears twice", nt.Name)
		}
		byName[nt.Name] = nt.Tensor
	}
	return byName, nil
}

// expectModel checks a model tensor of the file against the model's
// tensor of that name before it is read.
func expectModel(rb *readBundle, byName map[string]*tensor.Tensor, name string, info safetensors.TensorInfo) error {
	t, ok := byName[name]
	switch {
	case !ok:
		return rb.errorf("the checkpoint has a model tensor %q that the model does not", name)
	case !slices.Equal(info.Shape, t.Shape()):
		return rb.errorf("model tensor %q has shape %v in the checkpoint, %v in the model", name, info.Shape, t.Shape())
	case info.DType != t.DType():
		return rb.errorf("model tensor %q is %v in the checkpoint, %v in the model", name, info.DType, t.DType())
	}
	return nil
}

// modelTargets returns the named tensors of c's model: nn.StateDict of
// Model, or ModelState.
func (c *Checkpoint) modelTargets(op string) ([]NamedTensor, error) {
	switch {
	case c.Model != nil && len(c.ModelState) > 0:
		return nil, fmt.Errorf("optim: %s: set Model or ModelState, not both", op)
	case c.Model != nil:
		var out []NamedTensor
		if err := tensor.Catch(func() { out = nn.StateDict(c.Model) }); err != nil {
			return nil, fmt.Errorf("optim: %s: %w", op, err)
		}
		return out, nil
	}
	return c.ModelState, nil
}

// expectGeneratorState checks the header of a generator state tensor
// before it is read: 1-D Uint8 of a generator state's size, with or
// without the Philox part (tensor.Generator.SetState).
func expectGeneratorState(rb *readBundle, name string, info safetensors.TensorInfo) error {
	if info.DType != tensor.Uint8 || len(info.Shape) != 1 || (info.Shape[0] != tensor.StateSize && info.Shape[0] != tensor.StateSize-16) {
		return rb.corruptf("generator state %q is %v of shape %v, want a 1-D uint8 tensor of %d (or %d) bytes",
			name, info.DType, info.Shape, tensor.StateSize, tensor.StateSize-16)
	}
	return nil
}

// generatorState returns the generator state stored as the Uint8 tensor
// name, checked by restoring it into a scratch generator.
func (rb *readBundle) generatorState(name string) ([]byte, error) {
	st, ok := rb.tensors[name]
	if !ok {
		if _, old := rb.meta[metaOldRNGSeed]; old {
			return nil, rb.errorf("the checkpoint was written by an earlier nabla, whose random generator (Philox only) " +
				"this version replaced with PyTorch's Mersenne Twister; it cannot be resumed: start the run afresh")
		}
		return nil, rb.errorf("no generator state %q", name)
	}
	rb.used[name] = true
	state := st.Uint8s()
	if err := tensor.NewGenerator(0).SetState(state); err != nil {
		return nil, rb.corruptf("generator state %q: %v", name, err)
	}
	return state, nil
}

// modelState returns the model's tensors, read and checked by read, in
// the order of targets, after checking that they hold finite values
// (unless allowNonFinite). With no targets the model part of the file is
// skipped.
func (rb *readBundle) modelState(targets []NamedTensor, allowNonFinite bool) ([]*tensor.Tensor, error) {
	if len(targets) == 0 {
		rb.skip(prefixModel)
		return nil, nil
	}
	out := make([]*tensor.Tensor, len(targets))
	for i, nt := range targets {
		t, err := rb.tensor(prefixModel + nt.Name)
		if err != nil {
			return nil, err
		}
		if !allowNonFinite {
			bad, err := badValue(t, false, false)
			if err != nil {
				return nil, fmt.Errorf("optim: %s: model tensor %q: %w", rb.path, nt.Name, err)
			}
			if bad != "" {
				return nil, rb.errorf("model tensor %q is not finite: %s (set Checkpoint.AllowNonFinite to load it anyway)", nt.Name, bad)
			}
		}
		out[i] = t
	}
	return out, nil
}
