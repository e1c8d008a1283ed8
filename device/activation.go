package device

// BackwardOperand names the operand that Backend.UnaryBackward reads,
// besides the upstream gradient, to compute an op's gradient.
type BackwardOperand uint8

const (
	// NoBackward: the op has no fused gradient; UnaryBackward fails.
	NoBackward BackwardOperand = iota
	// FromInput: the gradient is computed from the op's input x.
	FromInput
	// FromOutput: the gradient is computed from the op's output y, which
	// saves recomputing a transcendental function.
	FromOutput
)

// BackwardOperand reports which operand UnaryBackward reads for op. The
// gradients dx = g·f'(·), with alpha and beta as in Unary, are:
//
//	Relu       x: g where x > 0, else 0
//	LeakyRelu  x: g where x > 0, else g·alpha
//	Threshold  x: g where x > alpha, else 0
//	Clamp      x: g where alpha <= x <= beta, else 0
//	Softplus   x: g where x > 20 (where the forward is x itself), else g·sigmoid(x)
//	Gelu       x: g·(Φ(x) + x·φ(x)), Φ and φ the standard normal CDF and density
//	Sigmoid    y: g·(y·(1-y))
//	Tanh       y: g·((1-y)·(1+y)), which does not cancel where y is near ±1
//	Elu        y: g where y > 0, else g·(y+alpha), which is g·alpha·e^x;
//	           alpha must be >= 0 (as for PyTorch's ELU backward from its
//	           result), so that y > 0 exactly where x > 0
//
// The masks select: a masked-out element is 0 even where g is NaN, as
// Where(mask, g, 0) is. Relu, and LeakyRelu with alpha >= 0, read x only
// through the sign of x, which y shares, so a caller that keeps only the
// output may pass y as x. Every other op reports NoBackward.
func (op UnaryOp) BackwardOperand() BackwardOperand {
	switch op {
	case Relu, LeakyRelu, Threshold, Clamp, Softplus, Gelu:
		return FromInput
	case Sigmoid, Tanh, Elu:
		return FromOutput
	}
	return NoBackward
}
