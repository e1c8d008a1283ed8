package device

// PoolOp selects the pooling of Backend.Pool2d and Pool2dBackward.
type PoolOp uint8

// Pooling ops.
const (
	// MaxPool takes the maximum of each window; taps in the padding count
	// as -∞. The forward pass writes the position of the first maximum
	// (row-major over the window taps) into the index operand, as the flat
	// index ih*W + iw within the input plane.
	MaxPool PoolOp = iota
	// AvgPool takes the mean of each window, dividing by KernelH*KernelW:
	// taps in the (zero) padding count, PyTorch's count_include_pad=True.
	AvgPool
	numPoolOps
)

var poolNames = [...]string{"max_pool2d", "avg_pool2d"}

// String is the op's kernel name stem.
func (op PoolOp) String() string {
	if op < numPoolOps {
		return poolNames[op]
	}
	return "pool?"
}

// Valid reports whether op is one of the defined pooling ops.
func (op PoolOp) Valid() bool { return op < numPoolOps }
