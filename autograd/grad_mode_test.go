package autograd

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGoroutineKey checks that the key is stable within a goroutine and
// differs between goroutines alive at the same time.
func TestGoroutineKey(t *testing.T) {
	const n = 16
	keys := make([]uintptr, n)
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(1)
	var finished sync.WaitGroup
	finished.Add(n)
	for i := range n {
		go func() {
			defer finished.Done()
			keys[i] = goroutineKey()
			started.Done()
			done.Wait() // all alive at once
			if goroutineKey() != keys[i] {
				keys[i] = 0
			}
		}()
	}
	started.Wait()
	done.Done()
	finished.Wait()
	seen := map[uintptr]bool{goroutineKey(): true}
	for _, k := range keys {
		require.NotZero(t, k, "stable within its goroutine")
		require.False(t, seen[k], "distinct between live goroutines")
		seen[k] = true
	}
}

// TestNoGradChildGoroutineRecords checks that goroutines started inside
// NoGrad record as usual (grad mode is not inherited).
func TestNoGradChildGoroutineRecords(t *testing.T) {
	inside := make(chan bool)
	NoGrad(func() {
		go func() { inside <- IsGradEnabled() }()
		require.True(t, <-inside)
	})
}

func BenchmarkIsGradEnabledWhileAnotherGoroutineIsInNoGrad(b *testing.B) {
	release := make(chan struct{})
	entered := make(chan struct{})
	go NoGrad(func() {
		close(entered)
		<-release
	})
	<-entered
	defer close(release)
	b.ResetTimer()
	for range b.N {
		if !IsGradEnabled() {
			b.Fatal("grad mode leaked to another goroutine")
		}
	}
}
