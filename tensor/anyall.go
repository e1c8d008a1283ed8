package tensor

import "github.com/nabla-go/nabla/device"

// Any reports, as a Bool tensor, whether any element over dims (all
// dimensions when none are given) is nonzero (true, for Bool tensors), as
// torch.any. Over no elements it is false.
func (t *Tensor) Any(dims ...int) *Tensor { return t.Ne(0).Reduce(device.Sum, false, dims...).Gt(0) }

// All reports, as a Bool tensor, whether every element over dims (all
// dimensions when none are given) is nonzero, as torch.all. Over no
// elements it is true.
func (t *Tensor) All(dims ...int) *Tensor { return t.Eq(0).Reduce(device.Sum, false, dims...).Eq(0) }
