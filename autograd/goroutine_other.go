//go:build !amd64 && !arm64

package autograd

import (
	"bytes"
	"runtime"
	"strconv"
)

var goroutinePrefix = []byte("goroutine ")

// goroutineKey identifies the calling goroutine by the id in its stack
// header (microseconds: it formats a traceback).
func goroutineKey() uintptr {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, goroutinePrefix)
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return uintptr(id)
}
