package nn

import (
	"fmt"
	"io"

	"github.com/nabla-go/nabla/internal/safetensors"
	"github.com/nabla-go/nabla/tensor"
)

// Save writes m's state dict (see StateDict) to path as a safetensors file
// with PyTorch's key names, so that PyTorch can load it with
// safetensors.torch.load_file and load_state_dict. The file is replaced
// atomically: if anything fails, a file already at path is left as it was.
// Tensors on other devices are copied to the host first.
func Save(path string, m Module) error { return save(path, m, safetensors.Write) }

// writeFunc is safetensors.Write; tests substitute a failing one.
type writeFunc func(w io.Writer, tensors []safetensors.Tensor, metadata map[string]string) error

func save(path string, m Module, write writeFunc) error {
	var ts []safetensors.Tensor
	if err := tensor.Catch(func() {
		for _, e := range StateDict(m) {
			ts = append(ts, safetensors.Tensor{Name: e.Name, DType: e.Tensor.DType(), Shape: e.Tensor.Shape(), Data: e.Tensor.Bytes()})
		}
	}); err != nil {
		return fmt.Errorf("nn: Save %s: %w", path, err)
	}
	// "format": "pt" is what safetensors.torch.save_file writes; loaders
	// such as Hugging Face's check it.
	meta := map[string]string{"format": "pt"}
	if err := safetensors.WriteFileAtomic(path, func(w io.Writer) error { return write(w, ts, meta) }); err != nil {
		return fmt.Errorf("nn: Save %s: %w", path, err)
	}
	return nil
}

// Load reads a safetensors state dict from path into m, onto the devices
// m's parameters and buffers live on. The file is treated as hostile: the
// safetensors reader validates its structure, and Load checks every name,
// shape and dtype against m before changing anything. A file that does not
// fit m gives an error (wrapping a *StateDictError) that lists the missing
// and unexpected keys and the mismatched shapes and dtypes.
func Load(path string, m Module) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return fmt.Errorf("nn: Load: %w", err)
	}
	defer f.Close()
	names := f.Names()
	have := make(map[string]entryInfo, len(names))
	for _, name := range names {
		info, _ := f.Info(name)
		e := entryInfo{shape: info.Shape, dtype: info.DType}
		if !info.DType.Valid() {
			e.code = info.Code
		}
		have[name] = e
	}
	want := namedState(m)
	if err := checkState(want, have, names); err != nil {
		return fmt.Errorf("nn: Load %s: %w", path, err)
	}
	// Every name, shape and dtype has been checked: each tensor is read
	// straight into a tensor of its checked size (under the CPU memory
	// limit), then copied into the model.
	byName := make(map[string]*tensor.Tensor, len(want))
	for _, w := range want {
		if _, done := byName[w.Name]; done {
			continue
		}
		info, _ := f.Info(w.Name)
		t, err := tensor.FromBytesFunc(info.DType, info.Shape, func(dst []byte) error { return f.ReadData(w.Name, dst) })
		if err != nil {
			return fmt.Errorf("nn: Load %s: tensor %q: %w", path, w.Name, err)
		}
		byName[w.Name] = t
	}
	if err := copyState(want, byName); err != nil {
		return fmt.Errorf("nn: Load %s: %w", path, err)
	}
	return nil
}
