package data

import (
	"bytes"
	"compress/gzip"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device/cpu"
	"github.com/nabla-go/nabla/internal/idx"
	"github.com/nabla-go/nabla/internal/testfile"
	"github.com/nabla-go/nabla/tensor"
)

// gzipZeros writes a gzip-compressed IDX file of unsigned bytes with the
// given dimensions whose data is the first `data` bytes of zeros: all of
// them when data is the full size, fewer for a file that lies.
func gzipZeros(t testing.TB, path string, dims []uint32, data int) {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	require.NoError(t, err)
	_, err = zw.Write(idxBytes(0x08, dims, nil))
	require.NoError(t, err)
	zero := make([]byte, 1<<20)
	for data > 0 {
		n, err := zw.Write(zero[:min(data, len(zero))])
		require.NoError(t, err)
		data -= n
	}
	require.NoError(t, zw.Close())
	writeFile(t, path, buf.Bytes())
}

func limitCPUMemory(t *testing.T, bytes int64) {
	prev := cpu.SetMemoryLimit(bytes)
	t.Cleanup(func() { cpu.SetMemoryLimit(prev) })
}

// TestMNISTFromFilesHostile loads image files whose headers ask for more
// than the file holds or the machine (the CPU memory limit) can give, or
// that do not fit their labels: each fails with an error, and none makes
// the loader allocate the claimed size.
func TestMNISTFromFilesHostile(t *testing.T) {
	dir := t.TempDir()
	labels := filepath.Join(dir, "labels")
	writeFile(t, labels, idxBytes(0x08, []uint32{32768}, make([]byte, 32768)))
	claim := []uint32{32768, 256, 256} // 2 GiB of pixels

	// A gzip stream that claims 2 GiB but holds 1 MiB: the limit allows
	// the claim (the memory is reserved, and never touched), the data ends
	// early.
	limitCPUMemory(t, 4<<30)
	lying := filepath.Join(dir, "lying.gz")
	gzipZeros(t, lying, claim, 1<<20)
	_, err := MNISTFromFiles(lying, labels)
	require.ErrorIs(t, err, idx.ErrInvalid)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.ErrorContains(t, err, "need 2147483648 bytes, got 1048576")

	// The same claim beyond the CPU memory limit: refused before reading.
	limitCPUMemory(t, 64<<20)
	var alloc uint64
	alloc = testfile.Allocated(func() { _, err = MNISTFromFiles(lying, labels) })
	require.ErrorIs(t, err, tensor.ErrMemory)
	require.ErrorContains(t, err, "lying.gz")
	require.ErrorContains(t, err, "[32768 1 256 256]")
	require.ErrorContains(t, err, "2147483648 bytes (2 GiB)")
	require.Less(t, alloc, uint64(1<<20), "allocated %d bytes", alloc)

	// A true 2 GiB header in an uncompressed (sparse) file: the same.
	raw := filepath.Join(dir, "raw")
	head := idxBytes(0x08, claim, nil)
	testfile.Sparse(t, raw, head, int64(len(head))+1<<31)
	alloc = testfile.Allocated(func() { _, err = MNISTFromFiles(raw, labels) })
	require.ErrorIs(t, err, tensor.ErrMemory)
	require.Less(t, alloc, uint64(1<<20), "allocated %d bytes", alloc)

	// Counts that do not match are found from the headers alone.
	few := filepath.Join(dir, "few-labels")
	writeFile(t, few, idxBytes(0x08, []uint32{10}, make([]byte, 10)))
	alloc = testfile.Allocated(func() { _, err = MNISTFromFiles(lying, few) })
	require.ErrorIs(t, err, ErrFormat)
	require.ErrorContains(t, err, "holds 32768 images but")
	require.Less(t, alloc, uint64(1<<20), "allocated %d bytes", alloc)
}

// TestMNISTFromFilesReadsOnce loads 32 MiB of gzipped pixels: the load
// allocates the images' tensor, the labels and a small constant (the
// decompressor's state), no buffer of the data's size besides the tensor.
func TestMNISTFromFilesReadsOnce(t *testing.T) {
	const n, h, w = 512, 256, 256
	dir := t.TempDir()
	images := filepath.Join(dir, "images.gz")
	gzipZeros(t, images, []uint32{n, h, w}, n*h*w)
	labels := writeFile(t, filepath.Join(dir, "labels"), idxBytes(0x08, []uint32{n}, make([]byte, n)))
	var ds *ImageDataset
	var err error
	alloc := testfile.Allocated(func() { ds, err = MNISTFromFiles(images, labels) })
	require.NoError(t, err)
	require.Equal(t, []int{n, 1, h, w}, ds.Images().Shape())
	require.Less(t, alloc, uint64(n*h*w+2<<20), "allocated %d bytes for %d bytes of pixels", alloc, n*h*w)
	require.Equal(t, n, ds.Len())
}
