// Package tensor provides n-dimensional arrays with shapes, strides, dtypes
// and devices, in the mould of PyTorch's torch.Tensor.
//
// A Tensor is a strided view of a buffer owned by a device backend (see
// package device). Views (Reshape, Transpose, Narrow, Expand, ...) share the
// buffer and copy nothing; operations allocate their results on the device
// of their operands. Binary operations broadcast like NumPy.
//
// Device rules: every tensor lives on one device; an operation on tensors
// from different devices panics with an error that says how to move one
// (To, CPU); nothing moves implicitly. Reading numbers into Go memory
// (Float32s and friends) needs a CPU tensor; Item works anywhere.
//
// Errors: misuse (shapes that do not broadcast, mixed devices or dtypes)
// panics with a *Error wrapping a sentinel such as ErrShape; Catch turns
// such a panic into an ordinary error for callers that must not crash.
//
// Files: WriteNPY, SaveNPY, ReadNPY and LoadNPY exchange single tensors
// with NumPy in its .npy format; they return errors and never panic.
//
// Conv2d, MaxPool2d, AvgPool2d, Im2Col and Col2Im are the tensor-level
// functional forms (torch.nn.functional) for code that needs no gradients;
// autograd and nn wrap them. The primitives those packages are built from
// besides (backward kernels, fused optimizer steps, the fused bias and
// activation epilogue) are not part of this API: they are unexported and
// reach autograd, nn and optim through the internal bridge internal/prim.
//
// # Random numbers
//
// A Generator is PyTorch's CPU generator rewritten: a Mersenne Twister
// (mt19937) whose words are turned into numbers as PyTorch 1.13 turns
// them. After ManualSeed(s) (or with NewGenerator(s)) these draw the
// numbers PyTorch draws after torch.manual_seed(s) (or with
// torch.Generator().manual_seed(s)), call for call, as PyTorch computes
// them on an x86-64 CPU with AVX2 (where it runs its AVX2 or AVX-512
// kernels: every such CPU since about 2013). On a CPU without AVX2
// PyTorch itself rounds differently: about half its scaled uniforms and
// its Float32 normals of 16 or more elements differ from these in the
// last bits.
//
//   - Rand and Uniform (torch.rand, uniform_), Float32 and Float64: bit
//     for bit.
//   - Randn and Normal (torch.randn, normal_): Float32 bit for bit, both
//     PyTorch's paths (tensors of 16 or more elements are filled by blocks
//     of 16 with float32 polynomials, smaller ones one value at a time
//     with the second value of each Box-Muller pair kept for the next
//     draw); Float64 to within a few units in the last place (Go's
//     logarithm, sine and cosine are not glibc's).
//   - RandInt (torch.randint), every dtype; RandPerm (torch.randperm);
//     Generator.Int63 (torch.empty((), dtype=torch.int64).random_()).
//   - Bernoulli with a probability p (bernoulli_(p)): as PyTorch builds
//     without MKL draw it; builds with MKL (the x86-64 wheels from
//     pip) draw it with MKL's own generator.
//   - Generator.State is torch.get_rng_state() followed by nabla's
//     Philox counter, and SetState takes either, so a stream can move
//     between nabla and PyTorch mid-way.
//   - What builds on these: the initialisers and default layer
//     initialisations of package nn, and the data loader's shuffles and
//     RandomSplit of package data.
//
// A random tensor for a CUDA device is drawn on the host and copied, so
// every device gets the same numbers: PyTorch's CPU numbers, as
// torch.randn(n).to("cuda"), not those of torch.randn(n, device="cuda"),
// which come from PyTorch's CUDA generator.
//
// Not PyTorch's:
//
//   - Dropout masks (autograd.Dropout, nn.Dropout), on the CPU
//     as on a GPU, come from the generator's Philox4x32-10 counter: the
//     same on every device and reproducible, but not PyTorch's masks, and
//     they leave the Mersenne Twister where it is, while PyTorch's CPU
//     dropout draws from it, so PyTorch's later draws (a next shuffle from
//     the default generator, say) move elsewhere.
//   - A program that never seeds: PyTorch seeds from the operating
//     system; nabla's default generator starts from PyTorch's default seed
//     67280421310721, the same in every run.
//   - Computations on random numbers: nabla's kernels round a little
//     differently from PyTorch's, so a training run starts from the same
//     weights and drifts apart with time (see examples/xor).
package tensor
