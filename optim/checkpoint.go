package optim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

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
// The file is treated as hostile: everything (format, checksum, names,
// shapes, dtypes, values) is validated before anything changes, and a
// truncated, damaged or mismatched file gives an error wrapping ErrCorrupt
// or ErrState, never a panic; the targets are then left as they were.
func LoadCheckpoint(path string, c *Checkpoint) error {
	return loadCheckpoint(path, c, func() (*readBundle, error) { return readBundleFile(path, formatCheckpoint) })
}

// loadCheckpoint implements LoadCheckpoint, reading the file with read.
func loadCheckpoint(path string, c *Checkpoint, read func() (*readBundle, error)) error {
	if c == nil {
		return fmt.Errorf("optim: LoadCheckpoint: nil *Checkpoint")
	}
	targets, err := c.modelTargets("LoadCheckpoint")
	if err != nil {
		return err
	}
	rb, err := read()
	if err != nil {
		return err
	}

	// Parse and validate everything before changing anything.
	epochStr, _ := rb.metaValue(metaEpoch)
	epoch, err := strconv.Atoi(epochStr)
	if err != nil || epoch < 0 {
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
	model, err := rb.modelState(targets)
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
		if err := c.Optimizer.LoadStateDict(optSD); err != nil {
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
	if st.DType != tensor.Uint8 || len(st.Shape) != 1 {
		return nil, rb.corruptf("generator state %q is %v of shape %v, want a 1-D uint8 tensor", name, st.DType, st.Shape)
	}
	if err := tensor.NewGenerator(0).SetState(st.Data); err != nil {
		return nil, rb.corruptf("generator state %q: %v", name, err)
	}
	return st.Data, nil
}

// modelState decodes the model's tensors in the order of targets and
// checks that they match the targets exactly. With no targets the model
// part of the file is skipped.
func (rb *readBundle) modelState(targets []NamedTensor) ([]*tensor.Tensor, error) {
	if len(targets) == 0 {
		rb.skip(prefixModel)
		return nil, nil
	}
	out := make([]*tensor.Tensor, len(targets))
	seen := map[string]bool{}
	for i, nt := range targets {
		switch {
		case nt.Tensor == nil:
			return nil, fmt.Errorf("optim: LoadCheckpoint: model tensor %q is nil", nt.Name)
		case seen[nt.Name]:
			return nil, fmt.Errorf("optim: LoadCheckpoint: model tensor name %q appears twice", nt.Name)
		}
		seen[nt.Name] = true
		key := prefixModel + nt.Name
		if _, ok := rb.tensors[key]; !ok {
			return nil, rb.errorf("the checkpoint has no model tensor %q", nt.Name)
		}
		t, err := rb.tensor(key)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(t.Shape(), nt.Tensor.Shape()) {
			return nil, rb.errorf("model tensor %q has shape %v in the checkpoint, %v in the model", nt.Name, t.Shape(), nt.Tensor.Shape())
		}
		if t.DType() != nt.Tensor.DType() {
			return nil, rb.errorf("model tensor %q is %v in the checkpoint, %v in the model", nt.Name, t.DType(), nt.Tensor.DType())
		}
		out[i] = t
	}
	for _, name := range rb.names(prefixModel) {
		if !rb.used[name] {
			return nil, rb.errorf("the checkpoint has a model tensor %q that the model does not", strings.TrimPrefix(name, prefixModel))
		}
	}
	return out, nil
}

// skip marks every tensor and metadata entry under prefix as used.
func (rb *readBundle) skip(prefix string) {
	for _, name := range rb.names(prefix) {
		rb.used[name] = true
	}
	for k := range rb.meta {
		if strings.HasPrefix(k, prefix) {
			rb.used["meta:"+k] = true
		}
	}
}
