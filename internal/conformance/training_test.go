package conformance

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/ptxvm"
	"github.com/nabla-go/nabla/models"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// TestXOR runs the design document's XOR program on each device: four
// Linear layers with Sigmoid, BCE, SGD with learning rate 1, ManualSeed
// 777, 10001 epochs. It must classify all four points, as on the CPU.
// On the PTX virtual machine, where a step takes tens of milliseconds,
// the program runs its first xorStepsVM epochs and must end where the CPU
// does after as many.
func TestXOR(t *testing.T) {
	if testing.Short() {
		t.Skip("10001 training steps")
	}
	run := func(dev device.Device, epochs int) (loss float64, pred []float32, state []nn.NamedTensor) {
		x := tensor.FromSlice([]float32{0, 0, 0, 1, 1, 0, 1, 1}, 4, 2).To(dev)
		y := tensor.FromSlice([]float32{0, 1, 1, 0}, 4, 1).To(dev)
		tensor.ManualSeed(777)
		model := nn.Sequential(
			nn.Linear(2, 10), nn.Sigmoid(),
			nn.Linear(10, 10), nn.Sigmoid(),
			nn.Linear(10, 10), nn.Sigmoid(),
			nn.Linear(10, 1), nn.Sigmoid(),
		).To(dev)
		lossFn := nn.BCELoss()
		opt := optim.SGD(model.Parameters(), 1.0)
		var l *autograd.Var
		for range epochs {
			opt.ZeroGrad()
			l = lossFn(model.Forward(autograd.Const(x)), autograd.Const(y))
			l.Backward()
			opt.Step()
		}
		autograd.NoGrad(func() {
			pred = model.Forward(autograd.Const(x)).Detach().Gt(0.5).As(tensor.Float32).CPU().Float32s()
		})
		return l.Item(), pred, nn.StateDict(model)
	}
	wantLoss, wantPred, _ := run(device.CPU(), 10001)
	require.Equal(t, []float32{0, 1, 1, 0}, wantPred)
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		if emulated(t, dev) {
			cpuLoss, _, cpuState := run(device.CPU(), xorStepsVM)
			loss, _, state := run(dev, xorStepsVM)
			tol := tolerance(tensor.Float32, 1e-3)
			require.InDelta(t, cpuLoss, loss, tol*cpuLoss, "loss after %d epochs on %v", xorStepsVM, dev)
			for i, s := range cpuState {
				requireClose(t, s.Name, s.Tensor, state[i].Tensor, tol)
			}
			return
		}
		loss, pred, _ := run(dev, 10001)
		require.Equal(t, wantPred, pred, "predictions on %v", dev)
		require.Less(t, loss, 0.01, "final loss on %v (CPU: %v)", dev, wantLoss)
	})
}

// xorStepsVM is the number of XOR epochs run on the PTX virtual machine.
const xorStepsVM = 100

// classifierData is a small synthetic classification problem: 256
// samples of 1×8×8 images, 10 classes, labels a fixed function of the
// image so that training makes progress.
func classifierData() (*data.Tensors, error) {
	g := tensor.NewGenerator(5)
	x := tensor.Options{}.WithGenerator(g).Randn(256, 1, 8, 8)
	y := x.Sum(1, 2, 3).Mul(2).Floor().Clamp(-5, 4).Add(5).As(tensor.Int64)
	return data.TensorDataset(x, y)
}

// smallCNN has every layer kind the course's models use, plus batch
// norm, so one training step exercises every training kernel. The layers
// before a batch norm have no bias, as in PyTorch practice: batch norm
// subtracts the batch mean, so such a bias has no effect and its gradient
// is zero in exact arithmetic. Computed, it is rounding noise that differs
// with the order of summation, and Adam, which divides by the gradient's
// own magnitude, turns that noise into full-size steps of either sign: the
// bias would end up arbitrary on every device.
func smallCNN() nn.Module {
	return nn.Sequential(
		nn.Conv2d(1, 6, 3, nn.Padding(1), nn.NoBias()), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2, 2),
		nn.Flatten(), nn.Linear(6*4*4, 32, nn.NoBias()), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.25),
		nn.Linear(32, 10))
}

// trainRun trains smallCNN with Adam for one epoch on dev, the batches
// moved there by the loader, and returns the mean loss and the final state.
func trainRun(t *testing.T, dev device.Device) (float64, []nn.NamedTensor) {
	ds, err := classifierData()
	require.NoError(t, err)
	loader, err := data.NewLoader(ds, data.BatchSize(32), data.ShuffleWith(tensor.NewGenerator(9)), data.ToDevice(dev))
	require.NoError(t, err)
	tensor.ManualSeed(41)
	model := smallCNN().To(dev)
	opt := optim.Adam(model.Parameters(), 1e-2)
	loss, err := models.TrainEpoch(model, loader, opt, nil)
	require.NoError(t, err)
	for _, s := range nn.StateDict(model) {
		require.Equal(t, dev, s.Tensor.Device(), s.Name)
	}
	return loss, nn.StateDict(model)
}

// TestTrainEpochMatchesCPU trains one epoch through the data loader on
// each device and compares the loss and every weight with the CPU's.
func TestTrainEpochMatchesCPU(t *testing.T) {
	wantLoss, wantState := trainRun(t, device.CPU())
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		loss, state := trainRun(t, dev)
		tol := tolerance(tensor.Float32, 1e-3)
		require.InDelta(t, wantLoss, loss, tol*wantLoss)
		for i, s := range wantState {
			requireClose(t, s.Name, s.Tensor, state[i].Tensor, tol)
		}
	})
}

// TestTrainingStepStaysOnDevice checks on the PTX virtual machine, which
// counts the copies it is asked for, that forward, loss, backward and the
// optimizer step of the CNN (conv, batch norm, pooling, dropout,
// cross-entropy, Adam and SGD with momentum) never copy anything to or
// from the host: a training step must not stall on the host in the
// middle.
func TestTrainingStepStaysOnDevice(t *testing.T) {
	dev := device.CUDA(0)
	if len(devices()) == 0 || !emulated(t, dev) {
		t.Skip("counts the host transfers of the PTX virtual machine; cuda:0 is not it")
	}
	vm := ptxvm.Shared()
	tensor.ManualSeed(3)
	x := autograd.Const(tensor.Randn(16, 1, 8, 8).To(dev))
	y := autograd.Const(tensor.RandInt(0, 10, 16).To(dev))
	for _, mk := range []func([]*autograd.Var) optim.Optimizer{
		func(p []*autograd.Var) optim.Optimizer { return optim.Adam(p, 1e-3) },
		func(p []*autograd.Var) optim.Optimizer {
			return optim.SGD(p, 0.1, optim.Momentum(0.9), optim.WeightDecay(1e-4))
		},
	} {
		model := smallCNN().To(dev)
		opt := mk(model.Parameters())
		lossFn := nn.CrossEntropyLoss()
		step := func() {
			opt.ZeroGrad()
			lossFn(model.Forward(x), y).Backward()
			opt.Step()
		}
		step() // the first step creates the optimizer state
		sync(t, dev)
		before := vm.Stats()
		for range 3 {
			step()
		}
		// Copies are counted when queued, launches when they run: the
		// copies before the synchronisation (which queues one of its
		// own, the error word's readback), the launches after it.
		queued := vm.Stats()
		sync(t, dev)
		after := vm.Stats()
		require.Positive(t, after.Launches-before.Launches, "kernel launches during training steps")
		require.Zero(t, queued.CopiesDtoH-before.CopiesDtoH, "host reads during training steps")
		require.Zero(t, queued.CopiesHtoD-before.CopiesHtoD, "host writes during training steps")
		// The counter sees a read of the device: the loss.
		loss := lossFn(model.Forward(x), y).Item()
		require.Positive(t, loss)
		require.Positive(t, vm.Stats().CopiesDtoH-after.CopiesDtoH, "Item's copy to the host")
	}
}

// ckptRun trains smallCNN for steps batches on dev, from a checkpoint
// when from is not empty, and writes a checkpoint to to.
func ckptRun(t *testing.T, dev device.Device, from, to string, steps int) []nn.NamedTensor {
	ds, err := classifierData()
	require.NoError(t, err)
	tensor.ManualSeed(51)
	model := smallCNN().To(dev)
	opt := optim.SGD(model.Parameters(), 0.05, optim.Momentum(0.9))
	sched := optim.StepLR(opt, 1, 0.5)
	gen := tensor.NewGenerator(52)
	ck := optim.Checkpoint{Model: model, Optimizer: opt, Scheduler: sched, DataGenerator: gen}
	if from != "" {
		require.NoError(t, optim.LoadCheckpoint(from, &ck))
		for _, s := range nn.StateDict(model) {
			require.Equal(t, dev, s.Tensor.Device(), "%s after loading onto %v", s.Name, dev)
		}
	}
	loader, err := data.NewLoader(ds, data.BatchSize(32), data.ShuffleWith(gen), data.ToDevice(dev))
	require.NoError(t, err)
	lossFn := nn.CrossEntropyLoss()
	done := 0
	for b, err := range loader.All() {
		require.NoError(t, err)
		if done == steps {
			break
		}
		opt.ZeroGrad()
		lossFn(model.Forward(autograd.Const(b.X())), autograd.Const(b.Y())).Backward()
		opt.Step()
		done++
	}
	sched.Step()
	ck.Epoch++
	if to != "" {
		require.NoError(t, optim.SaveCheckpoint(to, ck))
	}
	return nn.StateDict(model)
}

// TestCheckpointAcrossDevices writes a checkpoint on one device and
// resumes on the other, both ways, and compares with a run that stayed on
// the resuming device.
func TestCheckpointAcrossDevices(t *testing.T) {
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		cpu := device.CPU()
		for _, c := range []struct{ first, second device.Device }{{dev, cpu}, {cpu, dev}} {
			t.Run(name(c.first, "->", c.second), func(t *testing.T) {
				dir := t.TempDir()
				ref := filepath.Join(dir, "ref.ckpt")
				moved := filepath.Join(dir, "moved.ckpt")
				ckptRun(t, c.second, "", ref, 3)
				want := ckptRun(t, c.second, ref, "", 3)
				ckptRun(t, c.first, "", moved, 3)
				got := ckptRun(t, c.second, moved, "", 3)
				tol := tolerance(tensor.Float32, 1e-3)
				for i, s := range want {
					requireClose(t, s.Name, s.Tensor, got[i].Tensor, tol)
				}
			})
		}
	})
}

// TestSaveLoadAcrossDevices saves a model's weights from each device and
// loads them into a model on the other: the values arrive bit for bit and
// stay on the loading model's device.
func TestSaveLoadAcrossDevices(t *testing.T) {
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		for _, c := range []struct{ from, to device.Device }{{dev, device.CPU()}, {device.CPU(), dev}} {
			t.Run(name(c.from, "->", c.to), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "model.safetensors")
				tensor.ManualSeed(61)
				src := smallCNN().To(c.from)
				// Non-trivial running statistics.
				src.Forward(autograd.Const(tensor.Randn(8, 1, 8, 8).To(c.from)))
				require.NoError(t, nn.Save(path, src))
				tensor.ManualSeed(62)
				dst := smallCNN().To(c.to)
				require.NoError(t, nn.Load(path, dst))
				want := nn.StateDict(src)
				got := nn.StateDict(dst)
				for i, s := range want {
					require.Equal(t, c.to, got[i].Tensor.Device(), s.Name)
					requireClose(t, s.Name, s.Tensor, got[i].Tensor, 0)
				}
			})
		}
	})
}
