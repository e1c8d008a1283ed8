package optim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"

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

// LoadState reads a file written by SaveState and loads it into s. The
// file is validated completely (format, checksum, names, shapes, values)
// before s changes; errors wrap ErrCorrupt or ErrState.
func LoadState(path string, s Stateful) error {
	f, err := readBundleFile(path, formatState)
	if err != nil {
		return err
	}
	sd, err := f.stateDict("")
	if err != nil {
		return err
	}
	if err := f.checkAllUsed(); err != nil {
		return err
	}
	return s.LoadStateDict(sd)
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

// readBundle is a file read back: every tensor's raw data and the
// metadata, with the checksum verified. It remembers which entries have
// been used, so that the reader can reject files with unexpected content.
type readBundle struct {
	path    string
	tensors map[string]safetensors.Tensor
	meta    map[string]string
	used    map[string]bool // tensor names and metadata keys ("meta:" + key) consumed
}

// readBundleFile reads and verifies the file at path, which must have the
// given format.
func readBundleFile(path, format string) (*readBundle, error) {
	f, err := safetensors.ReadFile(path)
	return newReadBundle(path, f, err, format)
}

// readBundleBytes is readBundleFile for a file's contents in memory.
func readBundleBytes(name string, data []byte, format string) (*readBundle, error) {
	f, err := safetensors.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return newReadBundle(name, f, err, format)
}

// newReadBundle reads every tensor of f (opened from path with error err)
// and verifies the format and the checksum.
func newReadBundle(path string, f *safetensors.File, err error, format string) (*readBundle, error) {
	if err != nil {
		if errors.Is(err, safetensors.ErrInvalid) || errors.Is(err, safetensors.ErrUnsupportedDType) {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return nil, fmt.Errorf("optim: %w", err)
	}
	defer f.Close()
	list, err := f.Tensors()
	if err != nil {
		if errors.Is(err, safetensors.ErrInvalid) || errors.Is(err, safetensors.ErrUnsupportedDType) {
			return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
		}
		return nil, fmt.Errorf("optim: %s: %w", path, err)
	}
	meta := f.Metadata()
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, path, fmt.Sprintf(format, args...))
	}
	switch got := meta[metaFormat]; {
	case got == "":
		return nil, corrupt("not a nabla file (no %q metadata); want a %s file", metaFormat, format)
	case got != format:
		return nil, corrupt("it is a %s file, not a %s file", got, format)
	case meta[metaVersion] != formatVersion:
		return nil, corrupt("format version %q is not supported (want %s)", meta[metaVersion], formatVersion)
	}
	sum, ok := meta[metaChecksum]
	if !ok {
		return nil, corrupt("no checksum")
	}
	if want := checksum(list, meta); sum != want {
		return nil, corrupt("checksum mismatch (stored %s, computed %s): the file is damaged", sum, want)
	}
	rb := &readBundle{path: path, tensors: map[string]safetensors.Tensor{}, meta: meta, used: map[string]bool{}}
	for _, t := range list {
		rb.tensors[t.Name] = t
	}
	for _, k := range []string{metaFormat, metaVersion, metaChecksum} {
		rb.used["meta:"+k] = true
	}
	return rb, nil
}

// errorf returns an error about the file's content wrapping ErrState.
func (rb *readBundle) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrState, rb.path, fmt.Sprintf(format, args...))
}

// corruptf returns an error about a malformed entry wrapping ErrCorrupt.
func (rb *readBundle) corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, rb.path, fmt.Sprintf(format, args...))
}

// metaValue returns metadata key and marks it used.
func (rb *readBundle) metaValue(key string) (string, bool) {
	v, ok := rb.meta[key]
	if ok {
		rb.used["meta:"+key] = true
	}
	return v, ok
}

// has reports whether a state dict was stored under prefix.
func (rb *readBundle) has(prefix string) bool {
	_, ok := rb.meta[prefix+metaKind]
	return ok
}

// tensor decodes the tensor called name and marks it used.
func (rb *readBundle) tensor(name string) (*tensor.Tensor, error) {
	st, ok := rb.tensors[name]
	if !ok {
		return nil, rb.errorf("no tensor %q", name)
	}
	rb.used[name] = true
	t, err := fromBytes(st)
	if err != nil {
		return nil, rb.corruptf("tensor %q: %v", name, err)
	}
	return t, nil
}

// names returns the sorted tensor names that start with prefix.
func (rb *readBundle) names(prefix string) []string {
	var out []string
	for name := range rb.tensors {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// stateDict decodes the state dict stored under prefix.
func (rb *readBundle) stateDict(prefix string) (StateDict, error) {
	kind, ok := rb.metaValue(prefix + metaKind)
	if !ok {
		return StateDict{}, rb.errorf("no state stored under %q", strings.TrimSuffix(prefix, "."))
	}
	sd := StateDict{Kind: kind, Tensors: map[string]*tensor.Tensor{}, Scalars: map[string]float64{}}
	for _, key := range sortedKeys(rb.meta) {
		name, found := strings.CutPrefix(key, prefix+scalarInfix)
		if !found {
			continue
		}
		v, _ := rb.metaValue(key)
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return StateDict{}, rb.corruptf("metadata %q = %q is not a number", key, v)
		}
		sd.Scalars[name] = f
	}
	for _, name := range rb.names(prefix) {
		t, err := rb.tensor(name)
		if err != nil {
			return StateDict{}, err
		}
		sd.Tensors[strings.TrimPrefix(name, prefix)] = t
	}
	return sd, nil
}

// checkAllUsed fails when the file holds entries nobody read.
func (rb *readBundle) checkAllUsed() error {
	for _, name := range sortedKeys(rb.tensors) {
		if !rb.used[name] {
			return rb.errorf("unexpected tensor %q", name)
		}
	}
	for _, key := range sortedKeys(rb.meta) {
		if !rb.used["meta:"+key] {
			return rb.errorf("unexpected metadata %q", key)
		}
	}
	return nil
}

// checksum is a CRC-32C over every tensor (name, dtype, shape, data) and
// every metadata entry but the checksum itself, in sorted order, each
// field length-prefixed.
func checksum(tensors []safetensors.Tensor, meta map[string]string) string {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	var buf [binary.MaxVarintLen64]byte
	field := func(b []byte) {
		h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(b)))])
		h.Write(b)
	}
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(tensors[a].Name, tensors[b].Name) })
	for _, i := range order {
		t := tensors[i]
		field([]byte(t.Name))
		field([]byte(t.DType.String()))
		field([]byte(fmt.Sprint(t.Shape)))
		field(t.Data)
	}
	for _, k := range sortedKeys(meta) {
		if k == metaChecksum {
			continue
		}
		field([]byte(k))
		field([]byte(meta[k]))
	}
	return fmt.Sprintf("crc32c:%08x", h.Sum32())
}

// fromBytes builds a CPU tensor from a safetensors tensor.
func fromBytes(st safetensors.Tensor) (*tensor.Tensor, error) {
	return tensor.FromBytes(st.DType, st.Shape, st.Data)
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
