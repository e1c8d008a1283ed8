package tensor_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/npy"
	"github.com/nabla-go/nabla/internal/testfile"
	"github.com/nabla-go/nabla/tensor"
)

func TestFromBytesFunc(t *testing.T) {
	x, err := tensor.FromBytesFunc(tensor.Bool, []int{3}, func(dst []byte) error {
		copy(dst, []byte{0, 2, 255})
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []bool{false, true, true}, x.Bools(), "nonzero bytes are true, and valid Go bools")

	x, err = tensor.FromBytesFunc(tensor.Float32, []int{2}, func(dst []byte) error {
		require.Len(t, dst, 8)
		binary.LittleEndian.PutUint32(dst, 0x3fc00000)     // 1.5
		binary.LittleEndian.PutUint32(dst[4:], 0xc0000000) // -2
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []float32{1.5, -2}, x.Float32s())

	boom := errors.New("disk on fire")
	_, err = tensor.FromBytesFunc(tensor.Int64, []int{4}, func([]byte) error { return boom })
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, "tensor: FromBytesFunc: disk on fire")

	limitCPUMemory(t, 1<<20)
	called := false
	_, err = tensor.FromBytesFunc(tensor.Float64, []int{1 << 20}, func([]byte) error { called = true; return nil })
	require.ErrorIs(t, err, tensor.ErrMemory)
	require.ErrorContains(t, err, "8388608 bytes")
	require.False(t, called, "nothing is read into a tensor that cannot be allocated")

	_, err = tensor.FromReader(tensor.Float32, []int{3}, strings.NewReader("12345678"))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	x, err = tensor.FromReader(tensor.Uint8, []int{2, 2}, strings.NewReader("abcdef"))
	require.NoError(t, err)
	require.Equal(t, []uint8("abcd"), x.Uint8s())
}

// npyHead returns the preamble and header of a .npy file of version 1.0.
func npyHead(descr string, fortran bool, shape ...int) []byte {
	dims := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(shape)), ", "), "[]")
	if len(shape) == 1 {
		dims += ","
	}
	order := "False"
	if fortran {
		order = "True"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }", descr, order, dims)
	pad := 64 - (10+len(dict)+1)%64
	head := append([]byte(npy.Magic), 1, 0)
	head = binary.LittleEndian.AppendUint16(head, uint16(len(dict)+pad+1))
	head = append(head, dict...)
	head = append(head, strings.Repeat(" ", pad)...)
	return append(head, '\n')
}

// TestLoadNPYHostile loads files whose headers ask for more than the
// machine (here: the CPU memory limit) or the file can give. Each fails
// with an error before the data's memory is taken.
func TestLoadNPYHostile(t *testing.T) {
	dir := t.TempDir()
	limitCPUMemory(t, 64<<20)

	// A real 1 GiB file, sparse: the header is true, the machine too small.
	huge := filepath.Join(dir, "huge.npy")
	head := npyHead("<f4", false, 1<<28)
	testfile.Sparse(t, huge, head, int64(len(head))+1<<30)
	var err error
	alloc := testfile.Allocated(func() { _, err = tensor.LoadNPY(huge) })
	require.ErrorIs(t, err, tensor.ErrMemory)
	require.ErrorContains(t, err, "[268435456]")
	require.ErrorContains(t, err, "1073741824 bytes (1 GiB)")
	require.Less(t, alloc, uint64(1<<20), "allocated %d bytes", alloc)

	// A header that claims more than the file holds.
	short := filepath.Join(dir, "short.npy")
	head = npyHead("<f8", false, 1<<40)
	testfile.Sparse(t, short, head, int64(len(head))+4096)
	alloc = testfile.Allocated(func() { _, err = tensor.LoadNPY(short) })
	require.ErrorIs(t, err, npy.ErrInvalid)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.ErrorContains(t, err, "needs 8796093022208 bytes of data, got 4096")
	require.Less(t, alloc, uint64(1<<20), "allocated %d bytes", alloc)

	// The same on a stream of unknown length: memory follows the data that
	// arrives, not the header.
	limitCPUMemory(t, -1)
	head = npyHead("<f4", false, 1<<32)
	alloc = testfile.Allocated(func() {
		_, err = tensor.ReadNPY(io.MultiReader(strings.NewReader(string(head) + strings.Repeat("x", 3<<20))))
	})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.ErrorContains(t, err, "got 3145728")
	require.Less(t, alloc, uint64(16<<20), "allocated %d bytes", alloc)
}

// TestLoadNPYReadsOnce loads a 32 MiB file: the load allocates the
// tensor's memory and a small constant, no buffer of the data's size
// besides it. Fortran order and big-endian data too.
func TestLoadNPYReadsOnce(t *testing.T) {
	const n = 8 << 20 // float32 elements: 32 MiB
	for _, c := range []struct {
		descr   string
		fortran bool
		shape   []int
	}{
		{"<f4", false, []int{n}},
		{">f4", false, []int{n}},
		{"<f4", true, []int{1 << 11, 1 << 12}},
	} {
		t.Run(fmt.Sprint(c.descr, c.fortran), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.npy")
			head := npyHead(c.descr, c.fortran, c.shape...)
			testfile.Sparse(t, path, head, int64(len(head))+4*n)
			var x *tensor.Tensor
			var err error
			alloc := testfile.Allocated(func() { x, err = tensor.LoadNPY(path) })
			require.NoError(t, err)
			require.Equal(t, c.shape, x.Shape())
			require.Less(t, alloc, uint64(4*n+2<<20), "allocated %d bytes for %d bytes of data", alloc, 4*n)
			require.Zero(t, x.Abs().Max().Item())
		})
	}
}
