package tensor

// dropout returns x with each element zeroed with probability p and the
// others scaled by 1/(1-p) (inverted dropout), computed in one pass with
// no mask tensor. The decisions come from x.Numel() Philox counters
// reserved from gen (the default generator when gen is nil; see
// Generator.PhiloxState), on the CPU as on a GPU, so a mask is the same
// on every device. They do not come from the generator's Mersenne
// Twister: unlike PyTorch's CPU dropout, this neither draws PyTorch's
// mask nor moves the stream that Rand, Randn and the initialisers draw
// from. It also returns the counters' seed and first offset:
// dropoutWith(g, p, seed, offset) applies the same mask to g, which is
// dropout's backward pass.
func dropout(x *Tensor, p float64, gen *Generator) (y *Tensor, seed, offset uint64) {
	const op = "Dropout"
	checkDropout(op, x, p)
	if gen == nil {
		gen = defaultGen
	}
	seed, offset = gen.reservePhilox(x.Numel())
	return applyDropout(op, x, p, seed, offset), seed, offset
}

// dropoutWith applies the dropout mask of probability p whose element k
// (in row-major order) is decided by Philox counter offset+k under seed:
// the mask dropout drew when it returned this seed and offset, recomputed
// rather than stored. x must have the shape that call had.
func dropoutWith(x *Tensor, p float64, seed, offset uint64) *Tensor {
	const op = "DropoutWith"
	checkDropout(op, x, p)
	return applyDropout(op, x, p, seed, offset)
}

func checkDropout(op string, x *Tensor, p float64) {
	if !(p >= 0 && p <= 1) {
		fail(op, ErrArgument, "probability %v is outside [0, 1]", p)
	}
	requireFloat(op, x)
}

func applyDropout(op string, x *Tensor, p float64, seed, offset uint64) *Tensor {
	out := x.emptyLike(op, x.DType(), x.layout.Shape)
	check(op, x.be.Dropout(out.view(), x.view(), p, seed, offset))
	return out
}
