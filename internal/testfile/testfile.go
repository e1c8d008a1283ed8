// Package testfile makes the hostile files of the readers' tests: sparse
// files as large as their headers claim, which cost no disk, and a
// measure of what a load allocates.
package testfile

import (
	"os"
	"runtime"
	"testing"
)

// Sparse creates the file at path holding head followed by zeros up to
// size bytes in all, as a sparse file, so that a header claiming gigabytes
// of data describes a file that really is that long. It skips the test,
// saying why, when the file system cannot hold the file sparsely.
func Sparse(t testing.TB, path string, head []byte, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(head); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		os.Remove(path)
		t.Skipf("cannot make a sparse file of %d bytes here: %v", size, err)
	}
	if used, ok := diskUsage(f); !ok || used > int64(len(head))+1<<20 {
		f.Close()
		os.Remove(path)
		t.Skipf("the file system under %s does not keep files sparse (or cannot tell): a %d-byte test file would take %d bytes of disk", path, size, used)
	}
}

// Allocated returns the number of bytes the Go runtime allocated while f
// ran, counting what was freed again: the memory a load needed, which
// must stay near the size of the data it loads.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
