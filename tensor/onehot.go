package tensor

// OneHot returns the one-hot encoding of Int64 class labels, as
// torch.nn.functional.one_hot: an Int64 tensor of shape labels' shape +
// [numClasses] holding 1 at each label's class and 0 elsewhere. A
// negative numClasses means one more than the largest label. Labels
// outside [0, numClasses) are an error, reported as Gather and ScatterAdd
// report bad indices (on a GPU, at the next read of the device).
//
//	tensor.OneHot(tensor.FromSlice([]int64{2, 0}), 3) // [[0 0 1] [1 0 0]]
func OneHot(labels *Tensor, numClasses int) *Tensor {
	const op = "OneHot"
	if labels.DType() != Int64 {
		fail(op, ErrDType, "labels must be Int64 class indices, got %v; convert with .As(tensor.Int64)", labels.DType())
	}
	if numClasses < 0 {
		if labels.Numel() == 0 {
			fail(op, ErrArgument, "cannot infer the number of classes from an empty tensor; pass numClasses")
		}
		numClasses = int(labels.Max().Item()) + 1
	}
	shape := append(labels.Shape(), numClasses)
	zeros := On(labels.Device()).Of(Int64).Zeros(shape...)
	at := labels.Unsqueeze(-1)
	if err := Catch(func() { zeros = zeros.ScatterAdd(-1, at, OnesLike(at)) }); err != nil {
		fail(op, ErrIndex, "labels must lie in [0, %d): %v", numClasses, err)
	}
	return zeros
}
