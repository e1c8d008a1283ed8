package device

// UnaryOp selects the elementwise function of Backend.Unary. Ops marked
// "float" accept Float32 and Float64 only; the others also accept Int64.
type UnaryOp uint8

// Unary op codes. alpha and beta are Backend.Unary's scalar parameters.
const (
	Neg        UnaryOp = iota // -x
	Abs                       // |x|
	Sign                      // -1, 0 or 1
	Square                    // x*x
	Exp                       // float: e^x
	Log                       // float: ln x
	Sqrt                      // float: √x
	Rsqrt                     // float: 1/√x
	Reciprocal                // float: 1/x
	Sin                       // float
	Cos                       // float
	Sigmoid                   // float: 1/(1+e^-x)
	Tanh                      // float
	Relu                      // max(x, 0)
	LeakyRelu                 // float: x if x > 0 else alpha*x
	Elu                       // float: x if x > 0 else alpha*(e^x - 1)
	Softplus                  // float: ln(1+e^x), computed stably
	Step                      // 1 if x > alpha else 0 (Heaviside; alpha is the threshold)
	Threshold                 // x if x > alpha else beta
	Clamp                     // min(max(x, alpha), beta)
	PowScalar                 // float: x^alpha
	AddScalar                 // x + alpha
	MulScalar                 // x * alpha
	Affine                    // x*alpha + beta
	RSubScalar                // alpha - x
	RDivScalar                // float: alpha / x
	DivScalar                 // float: x / alpha (a true division, bit-identical to PyTorch's x / alpha)
	Floor                     // float
	Ceil                      // float
	Round                     // float: half to even, as PyTorch
	Log1p                     // float: ln(1+x)
	Expm1                     // float: e^x - 1
	Gelu                      // float: x·Φ(x), exact erf form
	Erf                       // float
	NotBool                   // Bool only: !x
	numUnaryOps
)

var unaryNames = [...]string{"neg", "abs", "sign", "square", "exp", "log", "sqrt", "rsqrt",
	"reciprocal", "sin", "cos", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus",
	"step", "threshold", "clamp", "pow_scalar", "add_scalar", "mul_scalar", "affine",
	"rsub_scalar", "rdiv_scalar", "div_scalar", "floor", "ceil", "round", "log1p", "expm1", "gelu", "erf", "not"}

// String is the op's kernel name, as used in CUDA kernel symbols.
func (op UnaryOp) String() string {
	if op < numUnaryOps {
		return unaryNames[op]
	}
	return "unary?"
}

// Valid reports whether op is one of the defined unary ops.
func (op UnaryOp) Valid() bool { return op < numUnaryOps }

// FloatOnly reports whether op is defined only for floating-point dtypes.
func (op UnaryOp) FloatOnly() bool {
	switch op {
	case Neg, Abs, Sign, Square, Relu, Step, Threshold, Clamp, AddScalar, MulScalar, Affine, RSubScalar, NotBool:
		return false
	}
	return true
}

// BinaryOp selects the elementwise function of Backend.Binary.
type BinaryOp uint8

// Binary op codes.
const (
	Add BinaryOp = iota
	Sub
	Mul
	Div // float division; integer division truncates toward zero
	Pow // float only
	Minimum
	Maximum
	Eq // comparisons write Bool
	Ne
	Lt
	Le
	Gt
	Ge
	And // Bool only
	Or  // Bool only
	Xor // Bool only
	numBinaryOps
)

var binaryNames = [...]string{"add", "sub", "mul", "div", "pow", "minimum", "maximum",
	"eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor"}

// String is the op's kernel name.
func (op BinaryOp) String() string {
	if op < numBinaryOps {
		return binaryNames[op]
	}
	return "binary?"
}

// Valid reports whether op is one of the defined binary ops.
func (op BinaryOp) Valid() bool { return op < numBinaryOps }

// IsComparison reports whether op produces a Bool result from two numbers.
func (op BinaryOp) IsComparison() bool { return op >= Eq && op <= Ge }

// IsLogical reports whether op combines two Bool operands.
func (op BinaryOp) IsLogical() bool { return op >= And && op <= Xor }

// ReduceOp selects the reduction of Backend.Reduce.
type ReduceOp uint8

// Reduction op codes.
const (
	Sum ReduceOp = iota
	Mean
	Prod
	Max
	Min
	ArgMax    // index of the first maximum, Int64
	ArgMin    // index of the first minimum, Int64
	LogSumExp // float: log Σ e^x, stabilised by the maximum
	Var       // float: population variance Σ(x-mean)²/N
	numReduceOps
)

var reduceNames = [...]string{"sum", "mean", "prod", "max", "min", "argmax", "argmin", "logsumexp", "var"}

// String is the op's kernel name.
func (op ReduceOp) String() string {
	if op < numReduceOps {
		return reduceNames[op]
	}
	return "reduce?"
}

// Valid reports whether op is one of the defined reductions.
func (op ReduceOp) Valid() bool { return op < numReduceOps }

// Distribution selects what Backend.Random draws.
type Distribution uint8

// Distributions for Backend.Random, with the meaning of a and b.
const (
	Uniform   Distribution = iota // uniform on [a, b)
	Normal                        // normal with mean a and standard deviation b
	IntRange                      // integers uniform on [a, b)
	Bernoulli                     // 1 with probability a, else 0
)
