//go:build amd64 || arm64

package autograd

// currentG returns the address of the calling goroutine's runtime
// descriptor (the g the runtime keeps in thread-local storage on amd64
// and in a register on arm64). It identifies the goroutine while it runs:
// the descriptor neither moves nor is reused before the goroutine exits.
func currentG() uintptr

// goroutineKey identifies the calling goroutine, in about a nanosecond.
func goroutineKey() uintptr { return currentG() }
