// Package iosize tells how many bytes a reader still holds, when it can
// tell: the readers of untrusted files (npy, idx) compare that with what
// a header claims before they allocate for it.
package iosize

import (
	"io"
	"os"
)

// Remaining returns how many bytes r holds from where it stands, or -1
// when r does not tell: readers with a Len method (*bytes.Reader,
// *bytes.Buffer, *strings.Reader) and regular files are measured.
func Remaining(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case *os.File:
		st, err := v.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return -1
		}
		pos, err := v.Seek(0, io.SeekCurrent)
		if err != nil || pos > st.Size() {
			return -1
		}
		return st.Size() - pos
	}
	return -1
}
