// Package data feeds training loops: data sets, splits, and a loader that
// cuts a data set into shuffled mini-batches in the background, in the
// mould of PyTorch's torch.utils.data.
//
// # Data sets
//
// A Dataset is anything with Len and Get: Get(i) returns sample i as a
// slice of tensors, typically (input, target). TensorDataset wraps whole
// tensors and indexes them along dimension 0; Subset and RandomSplit carve
// a data set into training, validation and test parts; FashionMNIST, MNIST
// and MNISTFromFiles read the IDX files of the MNIST family.
//
// A data set that holds whole tensors can also implement BatchGetter and
// build a batch with one IndexSelect per tensor instead of stacking
// per-sample tensors; TensorDataset, Subset and ImageDataset do.
//
// # Loading
//
// NewLoader returns a Loader; each call of its All method is one epoch,
// ranged over with Go's range-over-func:
//
//	loader, err := data.NewLoader(train, data.BatchSize(64), data.ShuffleWith(tensor.NewGenerator(1)))
//	if err != nil { ... }
//	for epoch := range 10 {
//		for b, err := range loader.All() {
//			if err != nil { return err }
//			x, y := b.X(), b.Y()    // [64 1 28 28] Float32, [64] Int64
//			...
//		}
//	}
//
// Batches are assembled by background goroutines while the loop body runs
// (two batches ahead by default, see Prefetch and Workers), optionally
// moved to a device there (ToDevice). Leaving the loop early with break or
// return stops and waits for those goroutines before All's iteration
// returns, so nothing leaks.
//
// Shuffling draws one permutation per epoch, when the epoch starts, from a
// tensor.Generator: the default one (seeded by tensor.ManualSeed) or one of
// the caller's own, exactly as PyTorch's DataLoader draws it (see Shuffle
// and ShuffleWith), so a seeded program visits the samples in the order
// the same PyTorch program does; RandomSplit splits as random_split. A
// loader that does not shuffle still draws one number from the default
// generator per epoch, as DataLoader does (its worker seed), to keep the
// stream where PyTorch's is. The generator's State after an epoch is all
// a resumed run needs to restore to continue with the same sequence of
// epochs.
//
// # Errors
//
// Everything that reads files or user data sets returns an error and never
// panics: a missing or corrupt file names the file; a sample whose shape
// does not match the others fails its batch with an error naming the
// sample. Invalid loader options are reported by NewLoader.
package data
