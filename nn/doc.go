// Package nn builds neural networks from layers, as PyTorch's torch.nn
// does: Modules with parameters and buffers, containers, activations,
// losses, initialisers and state dicts.
//
// A Module maps an autograd.Var to an autograd.Var. Layers (Linear,
// Conv2d, BatchNorm1d, BatchNorm2d, MaxPool2d, AvgPool2d, Flatten,
// Dropout) and activations (ReLU, Sigmoid, Softmax, ...) are Modules;
// Sequential chains them. Parameters are created as Float32 on the CPU and
// initialised as PyTorch initialises them, with the same random numbers:
// after tensor.ManualSeed(s) a model's parameters are those PyTorch
// creates after torch.manual_seed(s) (see the tensor package's "Random
// numbers"); To moves a model to a device in
// place, Cast changes its float dtype, Train and Eval switch the behaviour
// of Dropout and BatchNorm.
//
//	tensor.ManualSeed(1)
//	model := nn.Sequential(
//		nn.Linear(2, 10), nn.ReLU(),
//		nn.Linear(10, 1), nn.Sigmoid(),
//	).To(dev)
//	lossFn := nn.BCELoss()
//	loss := lossFn(model.Forward(autograd.Const(x)), autograd.Const(y))
//	loss.Backward()
//
// A Loss is a function of the model's output and the target; the
// constructors take an optional Reduction (Mean by default, Sum or None),
// for example nn.MSELoss(nn.Sum).
//
// Parameter and buffer names follow PyTorch ("0.weight", "1.running_mean"),
// so StateDict, LoadStateDict, Save and Load exchange weights with PyTorch:
// Save writes a safetensors file that safetensors.torch.load_file reads,
// and Load reads one written by PyTorch.
//
// The differentiable functions behind the layers (Conv2d as Im2Col and a
// matrix product, pooling, batch normalisation, the fused losses) and their
// gradient rules live in package autograd, next to the rules of every other
// operation; this package holds the state and the PyTorch-shaped API.
//
// Misuse (a shape that does not fit a layer, an option a layer does not
// take) panics with a *tensor.Error, as the tensor operations do; files
// (Save, Load) return errors.
package nn
