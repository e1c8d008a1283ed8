// optim.cu: sgd_step_<dtype>, adam_step_<dtype>, adagrad_step_<dtype> and
// rmsprop_step_<dtype> (f32 f64) for
// device.Backend.OptimStep: one optimizer update of one parameter in a
// single pass, one thread per element (grid-stride), in place.
//
// Every kernel takes (p, g, s0, s1, s2, OptArgs): SGD uses s0 as the
// momentum buffer; Adam s0 = m, s1 = v, s2 = vmax (AMSGrad); AdaGrad s0 =
// sum; RMSprop s0 = square_avg, s1 = momentum buffer, s2 = grad_avg
// (centered). The scalars
// come from the host in float64 and are rounded to T once, and every
// operation is rounded on its own (the __*_rn intrinsics are never
// contracted into FMAs), so the result equals the CPU backend's and the
// chain of tensor ops of package optim bit for bit. The loops stay rolled
// ("#pragma unroll 1"): nvcc unrolled them four times, which copied the
// update (and its division and square root) into every unrolled
// iteration for nothing, since the loads of one element cannot move ahead
// of the stores of the previous one through these unrestricted pointers.
#include "nabla.cuh"

struct OptArgs {
	i64 n;
	double nlr;          // -lr (SGD)
	double wd;           // L2 weight decay added to the gradient
	double mom, damp1;   // momentum, 1 - dampening (SGD)
	double b1, c1;       // beta1, 1 - beta1 (Adam)
	double b2, c2;       // beta2, 1 - beta2
	double nstep;        // -lr / (1 - beta1^t)
	double bc2;          // sqrt(1 - beta2^t)
	double eps;
	double shrink;       // AdamW: 1 - lr*weight_decay
	double alpha, calpha; // alpha, 1 - alpha (RMSprop)
	int maximize, use_wd, use_mom, first;
	int nesterov, amsgrad, use_shrink, centered;
};

// opt_grad returns the gradient g of the element p after maximize and the
// L2 term wd, the first lines of every update.
template <typename T>
__device__ __forceinline__ T opt_grad(T g, T p, T wd, const OptArgs& a) {
	if (a.maximize) g = -g;
	if (a.use_wd) g = add_rn(g, mul_rn(p, wd));
	return g;
}

template <typename T>
__device__ __forceinline__ void sgd_step(T* p, const T* g, T* buf, const OptArgs& a) {
	const T wd = T(a.wd), mom = T(a.mom), damp = T(a.damp1), nlr = T(a.nlr);
#pragma unroll 1
	for (i64 i = nb_tid(); i < a.n; i += nb_nthreads()) {
		T gi = opt_grad(g[i], p[i], wd, a);
		if (a.use_mom) {
			T b = gi;
			if (!a.first) b = add_rn(mul_rn(buf[i], mom), mul_rn(gi, damp));
			buf[i] = b;
			gi = a.nesterov ? add_rn(gi, mul_rn(b, mom)) : b;
		}
		p[i] = add_rn(p[i], mul_rn(gi, nlr));
	}
}

template <typename T>
__device__ __forceinline__ void adam_step(T* p, const T* g, T* m, T* v, T* vmax, const OptArgs& a) {
	const T wd = T(a.wd), shrink = T(a.shrink);
	const T b1 = T(a.b1), c1 = T(a.c1), b2 = T(a.b2), c2 = T(a.c2);
	const T nstep = T(a.nstep), bc2 = T(a.bc2), eps = T(a.eps);
#pragma unroll 1
	for (i64 i = nb_tid(); i < a.n; i += nb_nthreads()) {
		T pi = p[i];
		const T gi = opt_grad(g[i], pi, wd, a);
		if (a.use_shrink) pi = mul_rn(pi, shrink);
		const T mi = add_rn(mul_rn(m[i], b1), mul_rn(gi, c1));
		T vi = add_rn(mul_rn(v[i], b2), mul_rn(mul_rn(gi, c2), gi));
		m[i] = mi;
		v[i] = vi;
		if (a.amsgrad) {
			vi = go_max(vmax[i], vi);
			vmax[i] = vi;
		}
		const T denom = add_rn(div_rn(sqrt_rn(vi), bc2), eps);
		p[i] = add_rn(pi, div_rn(mul_rn(mi, nstep), denom));
	}
}

template <typename T>
__device__ __forceinline__ void adagrad_step(T* p, const T* g, T* sum, const OptArgs& a) {
	const T wd = T(a.wd), nlr = T(a.nlr), eps = T(a.eps);
#pragma unroll 1
	for (i64 i = nb_tid(); i < a.n; i += nb_nthreads()) {
		const T pi = p[i];
		const T gi = opt_grad(g[i], pi, wd, a);
		const T si = add_rn(sum[i], mul_rn(gi, gi));
		sum[i] = si;
		const T std = add_rn(sqrt_rn(si), eps);
		p[i] = add_rn(pi, div_rn(mul_rn(gi, nlr), std));
	}
}

template <typename T>
__device__ __forceinline__ void rmsprop_step(T* p, const T* g, T* sq, T* buf, T* gavg, const OptArgs& a) {
	const T wd = T(a.wd), nlr = T(a.nlr), eps = T(a.eps);
	const T alpha = T(a.alpha), calpha = T(a.calpha), mom = T(a.mom);
#pragma unroll 1
	for (i64 i = nb_tid(); i < a.n; i += nb_nthreads()) {
		const T pi = p[i];
		const T gi = opt_grad(g[i], pi, wd, a);
		const T vi = add_rn(mul_rn(sq[i], alpha), mul_rn(mul_rn(gi, calpha), gi));
		sq[i] = vi;
		T avg;
		if (a.centered) {
			const T ga = add_rn(mul_rn(gavg[i], alpha), mul_rn(gi, calpha));
			gavg[i] = ga;
			avg = sqrt_rn(sub_rn(vi, mul_rn(ga, ga)));
		} else {
			avg = sqrt_rn(vi);
		}
		avg = add_rn(avg, eps);
		if (a.use_mom) {
			const T b = add_rn(mul_rn(buf[i], mom), div_rn(gi, avg));
			buf[i] = b;
			p[i] = add_rn(pi, mul_rn(b, nlr));
		} else {
			p[i] = add_rn(pi, div_rn(mul_rn(gi, nlr), avg));
		}
	}
}

#define OK extern "C" __global__ void __launch_bounds__(256)
#define OPTIM(T, sfx) \
	OK sgd_step_##sfx(T* p, const T* g, T* s0, T* s1, T* s2, OptArgs a) { sgd_step<T>(p, g, s0, a); } \
	OK adam_step_##sfx(T* p, const T* g, T* s0, T* s1, T* s2, OptArgs a) { adam_step<T>(p, g, s0, s1, s2, a); } \
	OK adagrad_step_##sfx(T* p, const T* g, T* s0, T* s1, T* s2, OptArgs a) { adagrad_step<T>(p, g, s0, a); } \
	OK rmsprop_step_##sfx(T* p, const T* g, T* s0, T* s1, T* s2, OptArgs a) { rmsprop_step<T>(p, g, s0, s1, s2, a); }
OPTIM(float, f32)
OPTIM(double, f64)
