package nn

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nabla-go/nabla/tensor"
)

// NamedTensor is one entry of a state dict.
type NamedTensor struct {
	Name   string
	Tensor *tensor.Tensor
}

// StateDict returns m's parameters and buffers with PyTorch's key names
// ("0.weight", "1.running_mean", ...) in PyTorch's order (a module's
// parameters, its buffers, then its sub-modules'). The tensors share
// memory with the module, like PyTorch's state_dict: clone them to keep a
// snapshot that later training does not change.
func StateDict(m Module) []NamedTensor {
	entries := namedState(m)
	out := make([]NamedTensor, len(entries))
	for i, e := range entries {
		out[i] = NamedTensor{e.Name, e.Var.Detach()}
	}
	return out
}

// StateDictError reports why a state dict does not fit a module; nothing
// was loaded.
type StateDictError struct {
	Missing    []string // keys the module has and the state dict lacks
	Unexpected []string // keys the state dict has and the module lacks
	Mismatched []string // one line per key whose shape or dtype differs
}

// Error lists every problem in one message.
func (e *StateDictError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing keys "+quoteAll(e.Missing))
	}
	if len(e.Unexpected) > 0 {
		parts = append(parts, "unexpected keys "+quoteAll(e.Unexpected))
	}
	parts = append(parts, e.Mismatched...)
	return "nn: the state dict does not fit the model: " + strings.Join(parts, "; ")
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// entryInfo is what a state entry must match: its shape and dtype.
type entryInfo struct {
	shape []int
	dtype tensor.DType
	code  string // the file's dtype code when it is not a nabla dtype
}

// checkState compares the entries offered (by name) with the module's
// state entries, strictly: every key must be present on both sides with
// one shape and dtype.
func checkState(want []NamedVar, have map[string]entryInfo, haveOrder []string) error {
	e := &StateDictError{}
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w.Name] = true
		h, ok := have[w.Name]
		if !ok {
			e.Missing = append(e.Missing, w.Name)
			continue
		}
		t := w.Var.Detach()
		switch {
		case h.code != "":
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%s: dtype %s is not supported (the model has %v)", w.Name, h.code, t.DType()))
		case !slices.Equal(h.shape, t.Shape()):
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%s: shape %v in the state dict, %v in the model", w.Name, h.shape, t.Shape()))
		case h.dtype != t.DType():
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%s: dtype %v in the state dict, %v in the model", w.Name, h.dtype, t.DType()))
		}
	}
	for _, name := range haveOrder {
		if !wanted[name] {
			e.Unexpected = append(e.Unexpected, name)
		}
	}
	if len(e.Missing)+len(e.Unexpected)+len(e.Mismatched) > 0 {
		return e
	}
	return nil
}

// LoadStateDict copies the tensors of sd into m's parameters and buffers
// in place, onto the device each already lives on. It is strict: when a
// key is missing or unexpected, or a shape or dtype differs, it returns a
// *StateDictError listing every problem and changes nothing.
func LoadStateDict(m Module, sd []NamedTensor) error {
	have := make(map[string]entryInfo, len(sd))
	order := make([]string, 0, len(sd))
	byName := make(map[string]*tensor.Tensor, len(sd))
	for _, e := range sd {
		if e.Tensor == nil {
			return fmt.Errorf("nn: LoadStateDict: the state dict entry %q holds no tensor", e.Name)
		}
		if _, dup := have[e.Name]; dup {
			return fmt.Errorf("nn: LoadStateDict: the state dict holds %q twice", e.Name)
		}
		have[e.Name] = entryInfo{shape: e.Tensor.Shape(), dtype: e.Tensor.DType()}
		order = append(order, e.Name)
		byName[e.Name] = e.Tensor
	}
	want := namedState(m)
	if err := checkState(want, have, order); err != nil {
		return err
	}
	return copyState(want, byName)
}

// copyState copies the checked tensors into the module's entries.
func copyState(want []NamedVar, byName map[string]*tensor.Tensor) error {
	return tensor.Catch(func() {
		for _, w := range want {
			dst := w.Var.Detach()
			dst.CopyFrom(byName[w.Name].To(dst.Device()))
		}
	})
}
