package conformance

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/models"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// TestSteadyStateAllocatesNoDeviceMemory trains the course's MLP and CNN
// for 1,000 steps after a warm-up and checks that the device's caching
// allocator served every buffer from its cache: no allocation from the
// driver and no growth of the reserved memory. Devices without allocator
// statistics skip it.
//
// On the PTX virtual machine, where the course's models take a fraction
// of a second per step, a small MLP and smallCNN train for 50 steps after
// the warm-up instead (the same allocator code, the same kinds of
// layers), and the test collects the garbage itself every collectEvery
// steps. Buffers return to the cache only when the garbage collector
// finds them unreachable, and the virtual machine makes collections rare:
// its loaded modules (about 100 MB here) and its device memory live in
// the Go heap, so the pacer waits for a hundred-odd megabytes of host
// allocation, hundreds of steps of these models, during which every
// buffer comes from the driver. Collecting on a fixed schedule gives every stretch
// between collections the same turnover, which is what the test is
// about: the cache then serves all of it.
func TestSteadyStateAllocatesNoDeviceMemory(t *testing.T) {
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		if _, err := device.Memory(dev); errors.Is(err, device.ErrNoMemoryStats) {
			t.Skipf("%v keeps no allocator statistics", dev)
		}
		type steadyCase struct {
			name          string
			model         func() nn.Module
			input         []int
			warmUp, steps int
		}
		cases := []steadyCase{
			{"MLP", func() nn.Module { return models.MLP(0.2) }, []int{64, 1, 28, 28}, 100, 1000},
			{"CNN", func() nn.Module { return models.CNN(0.2) }, []int{64, 1, 28, 28}, 100, 1000},
		}
		collectEvery := 0 // never: the garbage collector's own pace
		if emulated(t, dev) {
			cases = []steadyCase{
				{"MLP", func() nn.Module {
					return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2),
						nn.Linear(32, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 10))
				}, []int{16, 1, 8, 8}, 20, 50},
				{"CNN", smallCNN, []int{4, 1, 8, 8}, 20, 30},
			}
			collectEvery = 10
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if testing.Short() && c.name == "CNN" {
					t.Skip("short")
				}
				tensor.ManualSeed(71)
				model := c.model().To(dev)
				opt := optim.Adam(model.Parameters(), 1e-3)
				lossFn := nn.CrossEntropyLoss()
				x := autograd.Const(tensor.Rand(c.input...).To(dev))
				y := autograd.Const(tensor.RandInt(0, 10, c.input[0]).To(dev))
				n := 0
				step := func() {
					opt.ZeroGrad()
					lossFn(model.Forward(x), y).Backward()
					opt.Step()
					if n++; collectEvery > 0 && n%collectEvery == 0 {
						collect(t, dev)
					}
				}
				// Warm-up: the optimizer state, the first buffers of every
				// size, and a few garbage collections' worth of turnover.
				for range c.warmUp {
					step()
				}
				sync(t, dev)
				before, err := device.Memory(dev)
				require.NoError(t, err)
				for range c.steps {
					step()
				}
				sync(t, dev)
				after, err := device.Memory(dev)
				require.NoError(t, err)
				t.Logf("%s on %v after warm-up: %+v", c.name, dev, before)
				t.Logf("after %d more steps: %+v", c.steps, after)
				require.Equal(t, before.DeviceAllocs, after.DeviceAllocs, "driver allocations during steady-state training")
				require.LessOrEqual(t, after.Reserved, before.Reserved, "reserved memory grew during steady-state training")
			})
		}
	})
}

// collect runs the garbage collector until the buffers of unreachable
// tensors are back in dev's cache: their cleanups run in the background
// after a collection, so it repeats until the allocated bytes have not
// changed for three rounds.
func collect(t *testing.T, dev device.Device) {
	t.Helper()
	last, err := device.Memory(dev)
	require.NoError(t, err)
	for same := 0; same < 3; {
		runtime.GC()
		time.Sleep(time.Millisecond)
		st, err := device.Memory(dev)
		require.NoError(t, err)
		if st.Allocated == last.Allocated {
			same++
		} else {
			same = 0
		}
		last = st
	}
}

// sync waits for the work queued on dev.
func sync(t *testing.T, dev device.Device) {
	t.Helper()
	b, err := device.Get(dev)
	require.NoError(t, err)
	require.NoError(t, b.Synchronize())
}
