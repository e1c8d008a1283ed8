package conformance

import (
	"errors"
	"testing"

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
// statistics (the fake, whose memory is the Go heap) skip it.
func TestSteadyStateAllocatesNoDeviceMemory(t *testing.T) {
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		if _, err := device.Memory(dev); errors.Is(err, device.ErrNoMemoryStats) {
			t.Skipf("%v keeps no allocator statistics", dev)
		}
		for _, c := range []struct {
			name  string
			model func() nn.Module
			input []int
			steps int
		}{
			{"MLP", func() nn.Module { return models.MLP(0.2) }, []int{64, 1, 28, 28}, 1000},
			{"CNN", func() nn.Module { return models.CNN(0.2) }, []int{64, 1, 28, 28}, 1000},
		} {
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
				step := func() {
					opt.ZeroGrad()
					lossFn(model.Forward(x), y).Backward()
					opt.Step()
				}
				// Warm-up: the optimizer state, the first buffers of every
				// size, and a few garbage collections' worth of turnover.
				for range 100 {
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

// sync waits for the work queued on dev.
func sync(t *testing.T, dev device.Device) {
	t.Helper()
	b, err := device.Get(dev)
	require.NoError(t, err)
	require.NoError(t, b.Synchronize())
}
