// Package conformance holds the training conformance suite: every layer,
// loss and optimizer of packages nn and optim runs forward, backward and
// one optimizer step on every device present and is compared with the
// CPU backend, and whole training runs (the design document's XOR
// program, an MLP and a small CNN, checkpoints moved between devices) run
// on a GPU unchanged.
//
// The package has no code of its own, only tests. Built with -tags cuda on
// a machine with an NVIDIA GPU it checks the CUDA backend on the GPU;
// elsewhere it makes cuda:0 the PTX virtual machine (cuda.UseEmulator),
// which runs the same backend code and the same embedded PTX kernels in
// pure Go, with memcheck and racecheck, so that the suite checks the
// kernels' results, the device rules (nothing may mix devices), the
// caching allocator and that a training step never copies to or from the
// host (the machine counts the copies) on every machine. The longest runs
// are shortened there (see TestXOR and
// TestSteadyStateAllocatesNoDeviceMemory).
package conformance
