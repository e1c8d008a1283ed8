package optim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/nabla-go/nabla/internal/safetensors"
	"github.com/nabla-go/nabla/tensor"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrState reports a state dict or checkpoint that does not fit its
	// target: another optimizer kind, another number of parameters, a
	// missing or unexpected entry, a shape that differs, an invalid
	// hyperparameter.
	ErrState = errors.New("optim: state does not fit")
	// ErrCorrupt reports a file that is not a valid state or checkpoint
	// file: truncated, malformed, not written by this package, or failing
	// its checksum.
	ErrCorrupt = errors.New("optim: corrupt file")
)

// StateDict is the saved state of an optimizer or a learning-rate
// schedule, PyTorch's state_dict() flattened into named tensors and named
// numbers so that it serialises into a safetensors file.
//
// For an optimizer, Tensors holds the per-parameter state under PyTorch's
// names, "state.<i>.<slot>" with i the parameter's index in Params (slots:
// "momentum_buffer" for SGD; "sum" for AdaGrad; "square_avg", "grad_avg",
// "momentum_buffer" for RMSProp; "exp_avg", "exp_avg_sq", "max_exp_avg_sq"
// for Adam and AdamW). Scalars holds the step counts ("state.<i>.step"),
// the number of parameters ("params") and the hyperparameters under
// PyTorch's param_group keys ("lr", "momentum", "weight_decay", "beta1",
// ...; flags such as "nesterov" are 0 or 1). Parameters that have not been
// updated yet have no entries.
type StateDict struct {
	// Kind names what produced the state: "SGD", "Adam", "StepLR", ...
	Kind string
	// Tensors holds the state tensors by name.
	Tensors map[string]*tensor.Tensor
	// Scalars holds hyperparameters, counters and other numbers by name.
	Scalars map[string]float64
}

// Stateful is what has a StateDict: every Optimizer and Scheduler.
type Stateful interface {
	StateDict() StateDict
	LoadStateDict(sd StateDict) error
}

// SaveState writes s's state dict to a safetensors file at path,
// atomically (temporary file, fsync, rename).
func SaveState(path string, s Stateful) error {
	var b bundle
	if err := b.addStateDict("", s.StateDict()); err != nil {
		return err
	}
	return b.writeFile(path, formatState)
}

// File formats, recorded in the metadata.
const (
	formatState      = "nabla.optim.state"
	formatCheckpoint = "nabla.checkpoint"
	formatVersion    = "1"

	metaFormat   = "format"
	metaVersion  = "format_version"
	metaChecksum = "checksum"
	metaKind     = "kind"
	scalarInfix  = "scalar."
)

// bundle collects the tensors and metadata of one file.
type bundle struct {
	tensors []safetensors.Tensor
	meta    map[string]string
}

func (b *bundle) setMeta(key, value string) {
	if b.meta == nil {
		b.meta = map[string]string{}
	}
	b.meta[key] = value
}

// addTensor adds t's elements under name.
func (b *bundle) addTensor(name string, t *tensor.Tensor) error {
	if t == nil {
		return fmt.Errorf("optim: tensor %q is nil", name)
	}
	var data []byte
	err := tensor.Catch(func() { data = t.Bytes() })
	if err != nil {
		return fmt.Errorf("optim: saving tensor %q: %w", name, err)
	}
	b.tensors = append(b.tensors, safetensors.Tensor{Name: name, DType: t.DType(), Shape: t.Shape(), Data: data})
	return nil
}

// addStateDict adds sd under prefix: its tensors as prefix+name, its kind
// as metadata prefix+"kind" and its scalars as prefix+"scalar."+name.
func (b *bundle) addStateDict(prefix string, sd StateDict) error {
	b.setMeta(prefix+metaKind, sd.Kind)
	for _, name := range sortedKeys(sd.Scalars) {
		b.setMeta(prefix+scalarInfix+name, formatFloat(sd.Scalars[name]))
	}
	for _, name := range sortedKeys(sd.Tensors) {
		if err := b.addTensor(prefix+name, sd.Tensors[name]); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes the bundle atomically, with the format marker and the
// checksum.
func (b *bundle) writeFile(path, format string) error {
	b.setMeta(metaFormat, format)
	b.setMeta(metaVersion, formatVersion)
	b.setMeta(metaChecksum, checksum(b.tensors, b.meta))
	if err := safetensors.WriteFile(path, b.tensors, b.meta); err != nil {
		return fmt.Errorf("optim: writing %s: %w", path, err)
	}
	return nil
}

// formatFloat formats v so that strconv.ParseFloat gives it back exactly.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
