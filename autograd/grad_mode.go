package autograd

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// Gradient recording is switched off per goroutine, like PyTorch's
// thread-local grad mode, so that one goroutine evaluating a model inside
// NoGrad does not stop another from training. Go has no goroutine-local
// storage; the goroutine's id (parsed from its stack header) keys the
// set of goroutines inside NoGrad. Parsing costs about a microsecond, so
// it happens only while some goroutine is inside NoGrad: the common
// training path pays one atomic load.
var (
	noGradActive atomic.Int64
	noGradDepth  sync.Map // goroutine id -> *int (nesting depth)
)

// NoGrad runs f without recording operations for autograd on the calling
// goroutine: results of operations inside f take no gradient and keep no
// graph, which saves memory and time during evaluation. Goroutines started
// by f record as usual. NoGrad calls nest.
func NoGrad(f func()) {
	id := goid()
	d, _ := noGradDepth.LoadOrStore(id, new(int))
	depth := d.(*int)
	*depth++
	noGradActive.Add(1)
	defer func() {
		noGradActive.Add(-1)
		*depth--
		if *depth == 0 {
			noGradDepth.Delete(id)
		}
	}()
	f()
}

// IsGradEnabled reports whether operations on the calling goroutine are
// being recorded.
func IsGradEnabled() bool {
	if noGradActive.Load() == 0 {
		return true
	}
	_, inside := noGradDepth.Load(goid())
	return !inside
}

var goroutinePrefix = []byte("goroutine ")

// goid returns the id of the calling goroutine.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, goroutinePrefix)
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
