package autograd

import (
	"sync"
	"sync/atomic"
)

// Gradient recording is switched off per goroutine, like PyTorch's
// thread-local grad mode, so that one goroutine evaluating a model inside
// NoGrad does not stop another from training. Go has no goroutine-local
// storage, and the alternatives cost more than they give: a context
// argument on every op would part with PyTorch's API, and pprof labels
// (goroutine-local, but inherited by child goroutines) cannot be read back
// without the runtime's internals. So the set of goroutines inside NoGrad
// is keyed by the goroutine's identity: the address of its runtime
// descriptor, read in a nanosecond on amd64 and arm64 (goroutine_g.go);
// elsewhere the id parsed from its stack header, microseconds. It is
// looked up only while some goroutine is inside NoGrad: the common
// training path pays one atomic load.
var (
	noGradActive atomic.Int64
	noGradDepth  sync.Map // goroutineKey() -> *int (nesting depth)
)

// NoGrad runs f without recording operations for autograd on the calling
// goroutine: results of operations inside f take no gradient and keep no
// graph, which saves memory and time during evaluation. Goroutines started
// by f record as usual. NoGrad calls nest.
func NoGrad(f func()) {
	id := goroutineKey()
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
	_, inside := noGradDepth.Load(goroutineKey())
	return !inside
}
