package safetensors

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// WriteFileAtomic replaces the file at path with what write writes, so that
// a crash or an error at any point leaves either the old file or the new one,
// never a mix.
//
// write gets a buffered writer onto a temporary file in path's directory.
// When it returns nil, the buffer is flushed, the temporary file is fsynced,
// closed, renamed over path and the directory is fsynced. When anything
// fails (write included, or write panics) the temporary file is removed and
// the old file at path is left untouched. The new file keeps the permission
// bits of the file it replaces, or gets 0644 when there was none.
//
// A save killed before its rename (kill -9, a power cut) leaves its
// temporary file behind; each save first removes the temporary files
// that earlier saves to the same path left, so they do not pile up. Two
// saves to one path at the same time are therefore not supported: one may
// remove the other's temporary file, which then fails (the file at path
// stays whole either way).
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	perm := fs.FileMode(0o644)
	if st, statErr := os.Stat(path); statErr == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("safetensors: %s exists and is not a regular file", path)
		}
		perm = st.Mode().Perm()
	}
	removeLeftovers(dir, base)
	tmp, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	tmpName := tmp.Name()
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()

	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: writing %s: %w", tmpName, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	done = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("safetensors: the new %s is in place, but syncing its directory failed: %w", path, err)
	}
	return nil
}

// tempPrefix is the name of a temporary file for base up to the random
// digits os.CreateTemp adds.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// removeLeftovers removes the temporary files of interrupted saves of base
// in dir: regular files named tempPrefix(base) and digits, as
// os.CreateTemp makes them. It is best effort: a file it cannot list or
// remove stays, and the save goes on.
func removeLeftovers(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := tempPrefix(base)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// syncDir fsyncs a directory so that a rename in it is durable. File
// systems and platforms that cannot sync a directory are not an error.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there; renames are durable
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// WriteFile writes tensors and metadata to the safetensors file at path,
// atomically (see WriteFileAtomic and Write).
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	// Validate before touching the file system.
	if _, _, err := buildHeader(tensors, metadata); err != nil {
		return err
	}
	return WriteFileAtomic(path, func(w io.Writer) error { return Write(w, tensors, metadata) })
}
