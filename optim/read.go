package optim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"

	"github.com/nabla-go/nabla/internal/safetensors"
	"github.com/nabla-go/nabla/tensor"
)

// LoadState reads a file written by SaveState and loads it into s. The
// file is treated as hostile: names, shapes and dtypes are checked against
// s before any data is read, then the checksum and the values, all before
// s changes; errors wrap ErrCorrupt or ErrState.
func LoadState(path string, s Stateful) error {
	f, err := openBundle(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return loadState(path, f, s)
}

// loadState implements LoadState on an opened file.
func loadState(path string, f *safetensors.File, s Stateful) error {
	rb, err := newReadBundle(path, f, formatState)
	if err != nil {
		return err
	}
	if err := rb.read(func(name string, info safetensors.TensorInfo) (bool, error) {
		return true, expectState(rb, s, "", name, info)
	}); err != nil {
		return err
	}
	sd, err := rb.stateDict("")
	if err != nil {
		return err
	}
	if err := rb.checkAllUsed(); err != nil {
		return err
	}
	if o, ok := s.(*optimizer); ok {
		return o.loadStateDict(sd, true, false) // the tensors are the bundle's own: no copy
	}
	return s.LoadStateDict(sd)
}

// expectState checks a tensor of the state of s stored under prefix
// (name is the key within the state dict) before it is read: an
// optimizer's "state.<i>.<slot>" must have the shape and dtype of
// parameter i, and a schedule has no tensors. A Stateful of another kind
// may hold any tensor.
func expectState(rb *readBundle, s Stateful, prefix, name string, info safetensors.TensorInfo) error {
	switch s := s.(type) {
	case Optimizer:
		params := s.Params()
		i, _, ok := parseStateKey(name, len(params))
		if !ok {
			return rb.errorf("unexpected tensor %q: an optimizer's state tensors are state.<i>.<slot> with i below %d", prefix+name, len(params))
		}
		p := params[i].Detach()
		if !slices.Equal(info.Shape, p.Shape()) || info.DType != p.DType() {
			return rb.errorf("tensor %q is %v of shape %v, but parameter %d is %v of shape %v", prefix+name, info.DType, info.Shape, i, p.DType(), p.Shape())
		}
	case Scheduler:
		return rb.errorf("unexpected tensor %q: a schedule's state has no tensors", prefix+name)
	}
	return nil
}

// readBundle is a file being read back: its metadata, and the tensors the
// caller wants, read into memory after their names, shapes and dtypes
// were accepted, with the checksum over the whole file verified. It
// remembers which entries have been used, so that the reader can reject
// files with unexpected content.
type readBundle struct {
	path    string
	file    *safetensors.File
	names   []string                  // every tensor of the file, sorted
	tensors map[string]*tensor.Tensor // those read
	meta    map[string]string
	used    map[string]bool // tensor names and metadata keys ("meta:" + key) consumed
}

// openBundle opens the safetensors file at path and validates its header
// against the file's size.
func openBundle(path string) (*safetensors.File, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, bundleErr(err)
	}
	return f, nil
}

// openBundleBytes is openBundle for a file's contents in memory.
func openBundleBytes(name string, data []byte) (*safetensors.File, error) {
	f, err := safetensors.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, bundleErr(fmt.Errorf("%s: %w", name, err))
	}
	return f, nil
}

// bundleErr wraps an error of the safetensors reader: ErrCorrupt for a
// malformed file.
func bundleErr(err error) error {
	if errors.Is(err, safetensors.ErrInvalid) || errors.Is(err, safetensors.ErrUnsupportedDType) {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return fmt.Errorf("optim: %w", err)
}

// newReadBundle checks the format metadata of f; nothing is read yet.
func newReadBundle(path string, f *safetensors.File, format string) (*readBundle, error) {
	meta := f.Metadata()
	corrupt := func(msg string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, path, fmt.Sprintf(msg, args...))
	}
	switch got := meta[metaFormat]; {
	case got == "":
		return nil, corrupt("not a nabla file (no %q metadata); want a %s file", metaFormat, format)
	case got != format:
		return nil, corrupt("it is a %s file, not a %s file", got, format)
	case meta[metaVersion] != formatVersion:
		return nil, corrupt("format version %q is not supported (want %s)", meta[metaVersion], formatVersion)
	}
	if _, ok := meta[metaChecksum]; !ok {
		return nil, corrupt("no checksum")
	}
	rb := &readBundle{path: path, file: f, names: f.Names(), tensors: map[string]*tensor.Tensor{}, meta: meta, used: map[string]bool{}}
	for _, k := range []string{metaFormat, metaVersion, metaChecksum} {
		rb.used["meta:"+k] = true
	}
	return rb, nil
}

// read reads the file's tensors and verifies the checksum. want is asked
// about every tensor first, from its name, dtype and shape alone: it
// returns whether the tensor is read into memory (true) or only
// checksummed (false), or refuses the file with an error; so nothing is
// read, and nothing allocated, for a tensor that does not fit its target.
// Then the tensors are read in name order, each wanted one straight into
// a CPU tensor of its accepted size (under the CPU memory limit), the
// others through a small buffer, all into the checksum.
func (rb *readBundle) read(want func(name string, info safetensors.TensorInfo) (bool, error)) error {
	wanted := map[string]bool{}
	for _, name := range rb.names {
		info, _ := rb.file.Info(name)
		if !info.DType.Valid() {
			return rb.corruptf("tensor %q has dtype %s, which nabla never writes", name, info.Code)
		}
		ok, err := want(name, info)
		if err != nil {
			return err
		}
		wanted[name] = ok
	}
	sum := newChecksum()
	var buf []byte
	for _, name := range rb.names {
		info, _ := rb.file.Info(name)
		sum.tensorHeader(name, info.DType, info.Shape, info.End-info.Begin)
		if !wanted[name] {
			if buf == nil {
				buf = make([]byte, 1<<20)
			}
			if err := rb.file.ReadChunks(name, buf, sum.write); err != nil {
				return rb.readErr(name, err)
			}
			continue
		}
		t, err := tensor.FromBytesFunc(info.DType, info.Shape, func(dst []byte) error {
			if err := rb.file.ReadData(name, dst); err != nil {
				return err
			}
			return sum.write(dst)
		})
		if err != nil {
			return rb.readErr(name, err)
		}
		rb.tensors[name] = t
	}
	if stored, computed := rb.meta[metaChecksum], sum.final(rb.meta); stored != computed {
		clear(rb.tensors)
		return rb.corruptf("checksum mismatch (stored %s, computed %s): the file is damaged", stored, computed)
	}
	return nil
}

// readErr wraps an error reading tensor name: an allocation the CPU
// memory limit refused, or the file's failure.
func (rb *readBundle) readErr(name string, err error) error {
	if errors.Is(err, tensor.ErrMemory) {
		return fmt.Errorf("optim: %s: tensor %q: %w", rb.path, name, err)
	}
	return fmt.Errorf("%w: %s: tensor %q: %w", ErrCorrupt, rb.path, name, err)
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

// tensor returns the tensor called name, which read has read, and marks
// it used.
func (rb *readBundle) tensor(name string) (*tensor.Tensor, error) {
	t, ok := rb.tensors[name]
	if !ok {
		return nil, rb.errorf("no tensor %q", name)
	}
	rb.used[name] = true
	return t, nil
}

// namesUnder returns the sorted tensor names that start with prefix.
func (rb *readBundle) namesUnder(prefix string) []string {
	var out []string
	for _, name := range rb.names {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
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
	for _, name := range rb.namesUnder(prefix) {
		t, err := rb.tensor(name)
		if err != nil {
			return StateDict{}, err
		}
		sd.Tensors[strings.TrimPrefix(name, prefix)] = t
	}
	return sd, nil
}

// skip marks every tensor and metadata entry under prefix as used.
func (rb *readBundle) skip(prefix string) {
	for _, name := range rb.namesUnder(prefix) {
		rb.used[name] = true
	}
	for k := range rb.meta {
		if strings.HasPrefix(k, prefix) {
			rb.used["meta:"+k] = true
		}
	}
}

// checkAllUsed fails when the file holds entries nobody read.
func (rb *readBundle) checkAllUsed() error {
	for _, name := range rb.names {
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
	order := slices.Clone(tensors)
	slices.SortFunc(order, func(a, b safetensors.Tensor) int { return strings.Compare(a.Name, b.Name) })
	sum := newChecksum()
	for _, t := range order {
		sum.tensorHeader(t.Name, t.DType, t.Shape, int64(len(t.Data)))
		sum.write(t.Data)
	}
	return sum.final(meta)
}

// checksummer computes checksum incrementally, so that a reader can add
// a tensor's data as it reads it.
type checksummer struct {
	h   hash.Hash32
	buf [binary.MaxVarintLen64]byte
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func newChecksum() *checksummer { return &checksummer{h: crc32.New(castagnoli)} }

// field adds one length-prefixed field.
func (c *checksummer) field(b []byte) {
	c.length(int64(len(b)))
	c.h.Write(b)
}

func (c *checksummer) length(n int64) { c.h.Write(c.buf[:binary.PutUvarint(c.buf[:], uint64(n))]) }

// tensorHeader adds a tensor's name, dtype and shape and the length of
// its data, which write adds next.
func (c *checksummer) tensorHeader(name string, dt tensor.DType, shape []int, dataLen int64) {
	c.field([]byte(name))
	c.field([]byte(dt.String()))
	c.field([]byte(fmt.Sprint(shape)))
	c.length(dataLen)
}

// write adds data bytes. It never fails; the error is ReadChunks's.
func (c *checksummer) write(b []byte) error {
	c.h.Write(b)
	return nil
}

// final adds the metadata and returns the checksum as it is stored.
func (c *checksummer) final(meta map[string]string) string {
	for _, k := range sortedKeys(meta) {
		if k == metaChecksum {
			continue
		}
		c.field([]byte(k))
		c.field([]byte(meta[k]))
	}
	return fmt.Sprintf("crc32c:%08x", c.h.Sum32())
}
