package cuda

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/ptxvm"
)

// Operands of the error word's tests.

func f32Buf(t *testing.T, b *Backend, n int) device.Buffer {
	t.Helper()
	buf, err := b.Alloc(device.Float32, n)
	require.NoError(t, err)
	require.NoError(t, b.Upload(buf, make([]float32, n)))
	return buf
}

func i64Buf(t *testing.T, b *Backend, v ...int64) device.Buffer {
	t.Helper()
	buf, err := b.Alloc(device.Int64, len(v))
	require.NoError(t, err)
	require.NoError(t, b.Upload(buf, v))
	return buf
}

// badGather launches a gather with index 7 into a 4-element dimension.
func badGather(t *testing.T, b *Backend) error {
	return b.Gather(view(f32Buf(t, b, 2), 2), view(f32Buf(t, b, 4), 4), view(i64Buf(t, b, 1, 7), 2), 0)
}

// TestKernelErrorWord: a kernel's report of a bad index or label reaches
// the next Synchronize or Download, which clears it; the device works on.
func TestKernelErrorWord(t *testing.T) {
	b := testBackend(t)
	cases := []struct {
		name   string
		launch func(t *testing.T) error
		want   string
	}{
		{"gather index", func(t *testing.T) error { return badGather(t, b) }, "gather: index 7 is out of range for dimension 0 of size 4"},
		{"gather negative index", func(t *testing.T) error {
			return b.Gather(view(f32Buf(t, b, 3), 3), view(f32Buf(t, b, 4), 4), view(i64Buf(t, b, 0, -1, 2), 3), 0)
		}, "gather: index -1 is out of range for dimension 0 of size 4"},
		{"scatter_add index", func(t *testing.T) error {
			return b.ScatterAdd(view(f32Buf(t, b, 4), 4), view(f32Buf(t, b, 2), 2), view(i64Buf(t, b, 0, 9), 2), 0)
		}, "scatter_add: index 9 is out of range for dimension 0 of size 4"},
		{"cross_entropy label", func(t *testing.T) error {
			return b.CrossEntropy(view(f32Buf(t, b, 3), 3), view(f32Buf(t, b, 3), 3), view(f32Buf(t, b, 15), 3, 5), view(i64Buf(t, b, 0, 5, 1), 3))
		}, "cross_entropy: label 5 of row 1 is outside [0, 5)"},
		{"cross_entropy backward label", func(t *testing.T) error {
			return b.CrossEntropyBackward(view(f32Buf(t, b, 15), 3, 5), view(f32Buf(t, b, 15), 3, 5), view(f32Buf(t, b, 3), 3),
				view(i64Buf(t, b, 0, 1, -3), 3), view(f32Buf(t, b, 3), 3))
		}, "cross_entropy: label -3 of row 2 is outside [0, 5)"},
	}
	for _, c := range cases {
		for _, at := range []string{"Synchronize", "Download"} {
			t.Run(c.name+"/"+at, func(t *testing.T) {
				require.NoError(t, b.Synchronize())
				require.NoError(t, c.launch(t), "the launch itself succeeds")
				var err error
				if at == "Synchronize" {
					err = b.Synchronize()
				} else {
					err = b.Download(make([]float32, 1), f32Buf(t, b, 1))
				}
				require.ErrorContains(t, err, c.want)
				require.NoError(t, b.Synchronize(), "the report is cleared")
				x := upload(t, b, []float32{1, 2})
				require.NoError(t, b.Unary(device.AddScalar, view(x, 2), view(x, 2), 1, 0))
				require.Equal(t, []float32{2, 3}, download(t, b, x), "the device works on")
			})
		}
	}
}

// TestKernelErrorReportedOnce: of several synchronisations racing after a
// failed kernel, exactly one reports it, whichever clears the word.
func TestKernelErrorReportedOnce(t *testing.T) {
	b := smallVM(t, 64<<20)
	for round := range 10 {
		require.NoError(t, badGather(t, b))
		out := f32Buf(t, b, 1)
		var reports atomic.Int32
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				var err error
				if g%2 == 0 {
					err = b.Synchronize()
				} else {
					err = b.Download(make([]float32, 1), out)
				}
				if err != nil {
					if !strings.Contains(err.Error(), "gather: index 7") {
						t.Errorf("round %d, goroutine %d: %v", round, g, err)
					}
					reports.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int32(1), reports.Load(), "round %d", round)
		require.NoError(t, b.Synchronize())
	}
}

// TestErrorWordReadback: the word is read back by one device-to-host copy
// queued before each synchronisation (Download's data copy is the other),
// and only a set word is cleared.
func TestErrorWordReadback(t *testing.T) {
	b, vm := vmBackend(t, ptxvm.Config{TotalMem: 64 << 20})
	x := f32Buf(t, b, 4)
	copies := func() uint64 { return vm.Stats().CopiesDtoH }

	n := copies()
	require.NoError(t, b.Synchronize())
	require.Equal(t, n+1, copies(), "Synchronize")
	n = copies()
	require.NoError(t, b.Download(make([]float32, 4), x))
	require.Equal(t, n+2, copies(), "Download")
	require.Zero(t, b.errs.clears, "nothing to clear")

	require.NoError(t, badGather(t, b))
	require.Error(t, b.Synchronize())
	require.Equal(t, uint64(1), b.errs.clears)
	require.NoError(t, b.Synchronize())
	require.Equal(t, uint64(1), b.errs.clears)
}
