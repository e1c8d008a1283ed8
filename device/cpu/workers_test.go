package cpu

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunItems checks that every item runs exactly once, for any number
// of items, from several callers at once, and from inside another job's
// item (the batched products run GEMMs that are themselves parallel).
func TestRunItems(t *testing.T) {
	run := func(n int) []int32 {
		counts := make([]int32, n)
		workers.runItems(n, func(i int) { atomic.AddInt32(&counts[i], 1) })
		return counts
	}
	ones := func(n int) []int32 {
		want := make([]int32, n)
		for i := range want {
			want[i] = 1
		}
		return want
	}
	for _, n := range []int{0, 1, 2, 3, 7, 64, 1000} {
		t.Run(fmt.Sprint("n=", n), func(t *testing.T) {
			for range 50 {
				require.Equal(t, ones(n), run(n))
			}
		})
	}
	t.Run("concurrent callers", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 200 {
					if got := run(5); !slices.Equal(got, ones(5)) {
						t.Errorf("items ran %v times", got)
						return
					}
				}
			})
		}
		wg.Wait()
	})
	t.Run("nested", func(t *testing.T) {
		var inner atomic.Int64
		workers.runItems(4, func(int) {
			workers.runItems(3, func(int) { inner.Add(1) })
		})
		require.Equal(t, int64(12), inner.Load())
	})
}
