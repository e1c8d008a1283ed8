package cuda

// These tests run in the default build, without a GPU: they check the
// host side of the kernel ABI against the embedded PTX.

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/kernels"
)

// ptxParam is one kernel parameter as declared in PTX.
type ptxParam struct{ size, align uintptr }

var (
	entryRe = regexp.MustCompile(`(?s)\.visible \.entry (\w+)\((.*?)\)`)
	paramRe = regexp.MustCompile(`\.param (?:\.align (\d+) )?\.(\w+) \w+?(?:\[(\d+)\])?$`)
)

// ptxEntries parses the kernel entry points of a PTX module.
func ptxEntries(t *testing.T, src string) map[string][]ptxParam {
	t.Helper()
	out := map[string][]ptxParam{}
	for _, m := range entryRe.FindAllStringSubmatch(src, -1) {
		var params []ptxParam
		for _, line := range strings.Split(m[2], "\n") {
			line = strings.TrimSuffix(strings.TrimSpace(line), ",")
			if line == "" {
				continue
			}
			pm := paramRe.FindStringSubmatch(line)
			require.NotNil(t, pm, "kernel %s: cannot parse parameter %q", m[1], line)
			size := map[string]uintptr{"u64": 8, "s64": 8, "f64": 8, "b64": 8, "u32": 4, "s32": 4, "f32": 4, "b32": 4, "u16": 2, "s16": 2, "b16": 2, "u8": 1, "s8": 1, "b8": 1}[pm[2]]
			require.NotZero(t, size, "kernel %s: unknown parameter type %q", m[1], pm[2])
			p := ptxParam{size: size, align: size}
			if pm[3] != "" { // .align A .b8 name[S]
				n, _ := strconv.Atoi(pm[3])
				a, _ := strconv.Atoi(pm[1])
				p = ptxParam{size: uintptr(n), align: uintptr(a)}
			}
			params = append(params, p)
		}
		out[m[1]] = params
	}
	return out
}

// layout turns a PTX parameter list into the offsets and sizes the
// parameter buffer must have.
func layout(ps []ptxParam) []argField {
	var out []argField
	off := uintptr(0)
	for _, p := range ps {
		off = (off + p.align - 1) &^ (p.align - 1)
		out = append(out, argField{off, p.size})
		off += p.size
	}
	return out
}

// kernelCall is a kernel the host may launch and how it packs its
// parameters.
type kernelCall struct {
	module, name string
	pack         func(a *argBuf)
}

// allCalls enumerates every kernel name the backend can produce, with its
// packer.
func allCalls() []kernelCall {
	var calls []kernelCall
	add := func(module, name string, pack func(a *argBuf)) {
		if name != "" {
			calls = append(calls, kernelCall{module, name, pack})
		}
	}
	var it iterArgs
	sc := newScalars(1, 2)
	for op := device.UnaryOp(0); op <= device.NotBool; op++ {
		for _, dt := range dtypes {
			add(modUnary, unaryKernel(op, dt), func(a *argBuf) { packUnary(a, 0, 0, &it, &sc) })
		}
	}
	for op := device.Add; op <= device.Xor; op++ {
		for _, dt := range dtypes {
			add(modBinary, binaryKernel(op, dt), func(a *argBuf) { packBinary(a, 0, 0, 0, &it, 0) })
		}
	}
	for _, s := range dtypes {
		for _, d := range dtypes {
			add(modCopy, copyKernel(s, d), func(a *argBuf) { packCopy(a, 0, 0, &it) })
		}
		add(modCopy, fillKernel(s), func(a *argBuf) { packFill(a, 0, &it, s, 1) })
		add(modCopy, whereKernel(s), func(a *argBuf) { packWhere(a, 0, 0, 0, 0, &it) })
		add(modIndex, gatherKernel(s), func(a *argBuf) { packIndex(a, 0, 0, 0, &it, 1, 1, 0, 0) })
		add(modRandom, randomKernel(s), func(a *argBuf) { packRandom(a, 0, &it, device.Normal, 1, 2, 0, 1) })
	}
	var ra redArgs
	for op := device.Sum; op <= device.Var; op++ {
		for _, dt := range dtypes {
			add(modReduce, reduceKernel(op, dt), func(a *argBuf) { packReduce(a, 0, 0, 0, &ra) })
		}
		add(modReduce, reducePartKernel(op), func(a *argBuf) { packReducePart(a, 0, 0, &ra) })
	}
	var sm smArgs
	var cv convArgs
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for _, log := range []bool{false, true} {
			add(modSoftmax, softmaxKernel(dt, log), func(a *argBuf) { packSoftmax(a, 0, 0, &sm, true) })
		}
	}
	for _, dt := range []device.DType{device.Float32, device.Float64, device.Int64} {
		add(modIndex, scatterAddKernel(dt), func(a *argBuf) { packIndex(a, 0, 0, 0, &it, 1, 1, 0, 0) })
		add(modConv, im2colKernel(dt), func(a *argBuf) { packConv(a, 0, 0, &cv) })
		add(modConv, col2imKernel(dt), func(a *argBuf) { packConv(a, 0, 0, &cv) })
	}
	var pa poolArgs
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for _, op := range []device.PoolOp{device.MaxPool, device.AvgPool} {
			for _, bwd := range []bool{false, true} {
				add(modPool, poolKernel(op, dt, bwd), func(a *argBuf) { packPool(a, 0, 0, 0, &pa) })
			}
		}
	}
	var oa optArgs
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		for _, op := range []device.OptimOp{device.SGDStep, device.AdamStep, device.AdagradStep, device.RMSPropStep} {
			add(modOptim, optimKernel(op, dt), func(a *argBuf) { packOptim(a, 0, 0, [3]uintptr{}, &oa) })
		}
	}
	var ba biasArgs
	for _, dt := range dtypes {
		for op := device.UnaryOp(0); op <= device.NotBool; op++ {
			add(modBias, biasKernel(op, dt), func(a *argBuf) { packBias(a, 0, 0, 0, &ba, &sc) })
		}
	}
	var ce ceArgs
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		add(modLoss, crossEntropyKernel(dt, false), func(a *argBuf) { packCrossEntropy(a, 0, 0, 0, 0, &ce, 0) })
		add(modLoss, crossEntropyKernel(dt, true), func(a *argBuf) { packCrossEntropyBackward(a, 0, 0, 0, 0, 0, &ce, 0) })
	}
	var da dropoutArgs
	for _, dt := range dtypes {
		add(modActivation, dropoutKernel(dt), func(a *argBuf) { packDropout(a, 0, 0, &it, &da) })
		for op := device.UnaryOp(0); op <= device.NotBool; op++ {
			add(modActivation, unaryBackwardKernel(op, dt), func(a *argBuf) { packUnaryBackward(a, 0, 0, 0, &it, 1, 2) })
		}
	}
	var bn bnArgs
	for _, dt := range []device.DType{device.Float32, device.Float64} {
		bnCall := func(stem string, nptr int) {
			add(modBatchNorm, bnKernel(stem, dt), func(a *argBuf) { packBN(a, &bn, make([]uintptr, nptr)...) })
		}
		bnCall("bn_stats", 4)
		bnCall("bn_stats_part", 3)
		bnCall("bn_forward", 7)
		bnCall("bn_backward_reduce", 8)
		bnCall("bn_backward_part", 6)
		bnCall("bn_backward_dx", 6)
	}
	var g gemmArgs
	for _, k := range []string{"matmul_kn_f32", "matmul_kk_f32", "matmul_mn_f32", "matmul_mk_f32", "matmul_ss_f32", "matmul_f64",
		"tf32_kn_f32", "tf32_kk_f32", "tf32_mn_f32", "tf32_mk_f32"} {
		add(modMatMul, k, func(a *argBuf) { packGemm(a, 0, 0, 0, &g) })
	}
	return calls
}

// TestKernelABI checks, for the PTX each device generation loads (the
// machine code is assembled from the same PTX), that each kernel the host
// can launch exists and that the host packs exactly the parameter list
// the kernel declares.
func TestKernelABI(t *testing.T) {
	calls := allCalls()
	require.Greater(t, len(calls), 250)
	for _, arch := range []int{70, 80, 90} {
		entries := map[string]map[string][]ptxParam{}
		for _, mod := range allModules {
			src, _, err := kernels.PTXText(mod, arch/10, arch%10)
			require.NoError(t, err)
			entries[mod] = ptxEntries(t, src)
		}
		used := map[string]bool{}
		for _, c := range calls {
			params, ok := entries[c.module][c.name]
			require.True(t, ok, "sm_%d: kernel %s.%s is missing from the PTX", arch, c.module, c.name)
			var rec []argField
			a := &argBuf{rec: &rec}
			c.pack(a)
			want := layout(params)
			require.Equal(t, want, rec, "sm_%d: parameters of %s.%s", arch, c.module, c.name)
			require.Equal(t, len(want), a.np)
			for i, f := range want {
				require.Equal(t, uint32(f.Off), a.offs[i])
			}
			used[c.module+"."+c.name] = true
		}
		// Every kernel in the PTX is reachable from the host.
		for mod, es := range entries {
			for name := range es {
				require.True(t, used[mod+"."+name], "sm_%d: kernel %s.%s is never launched by the host", arch, mod, name)
			}
		}
	}
}

// TestStructSizes pins the sizes of the mirrored structs (the PTX check
// above compares them with the kernels' declarations too).
func TestStructSizes(t *testing.T) {
	require.Equal(t, uintptr(336), unsafe.Sizeof(iterArgs{}))
	require.Equal(t, uintptr(48), unsafe.Sizeof(scalars{}))
	require.Equal(t, uintptr(368), unsafe.Sizeof(redArgs{}))
	require.Equal(t, uintptr(32), unsafe.Sizeof(redState{}))
	require.Equal(t, uintptr(24), unsafe.Sizeof(errWord{}))
	require.Equal(t, uintptr(120), unsafe.Sizeof(gemmArgs{}))
	require.Equal(t, uintptr(168), unsafe.Sizeof(convArgs{}))
	require.Equal(t, uintptr(248), unsafe.Sizeof(poolArgs{}))
	require.Equal(t, uintptr(152), unsafe.Sizeof(optArgs{}))
	require.Equal(t, uintptr(192), unsafe.Sizeof(bnArgs{}))
	require.Equal(t, uintptr(24), unsafe.Sizeof(bnState{}))
	require.Equal(t, uintptr(16), unsafe.Sizeof(bnSums{}))
	require.Equal(t, uintptr(80), unsafe.Sizeof(ceArgs{}))
	require.Equal(t, uintptr(64), unsafe.Sizeof(biasArgs{}))
}

func TestKernelNames(t *testing.T) {
	require.Equal(t, "leaky_relu_f32", unaryKernel(device.LeakyRelu, device.Float32))
	require.Equal(t, "", unaryKernel(device.Exp, device.Int64))
	require.Equal(t, "abs_u8", unaryKernel(device.Abs, device.Uint8))
	require.Equal(t, "not_bool", unaryKernel(device.NotBool, device.Bool))
	require.Equal(t, "", unaryKernel(device.Neg, device.Bool))
	require.Equal(t, "eq_u8", binaryKernel(device.Eq, device.Bool))
	require.Equal(t, "", binaryKernel(device.Lt, device.Bool))
	require.Equal(t, "", binaryKernel(device.Pow, device.Int64))
	require.Equal(t, "and_bool", binaryKernel(device.And, device.Bool))
	require.Equal(t, "", binaryKernel(device.And, device.Float32))
	require.Equal(t, "copy_u8_f32", copyKernel(device.Bool, device.Float32))
	require.Equal(t, "copy_u8_u8", copyKernel(device.Bool, device.Bool))
	require.Equal(t, "copy_u8_bool", copyKernel(device.Uint8, device.Bool))
	require.Equal(t, "copy_f64_bool", copyKernel(device.Float64, device.Bool))
	require.Equal(t, "", unaryKernel(device.AddScalar, device.Uint8))
	require.Equal(t, "affine_u8", unaryKernel(device.Affine, device.Uint8))
	require.Equal(t, "add_scalar_i64", unaryKernel(device.AddScalar, device.Int64))
	require.Equal(t, "sum_u8", reduceKernel(device.Sum, device.Bool))
	require.Equal(t, "", reduceKernel(device.Mean, device.Int64))
	require.Equal(t, "", reduceKernel(device.Var, device.Bool))
	require.Equal(t, "logsumexp_f32", reduceKernel(device.LogSumExp, device.Float32))
	require.Equal(t, "logsumexp_part", reducePartKernel(device.LogSumExp))
	require.Equal(t, "log_softmax_f64", softmaxKernel(device.Float64, true))
	require.Equal(t, "max_pool2d_f32", poolKernel(device.MaxPool, device.Float32, false))
	require.Equal(t, "avg_pool2d_backward_f64", poolKernel(device.AvgPool, device.Float64, true))
	require.Equal(t, "adam_step_f32", optimKernel(device.AdamStep, device.Float32))
	require.Equal(t, "bn_backward_reduce_f64", bnKernel("bn_backward_reduce", device.Float64))
	require.Equal(t, "cross_entropy_f32", crossEntropyKernel(device.Float32, false))
	require.Equal(t, "cross_entropy_backward_f64", crossEntropyKernel(device.Float64, true))
	require.Equal(t, "bias_leaky_relu_f32", biasKernel(device.LeakyRelu, device.Float32))
	require.Equal(t, "bias_add_scalar_f64", biasKernel(device.AddScalar, device.Float64))
	require.Equal(t, "", biasKernel(device.Exp, device.Float32))
	require.Equal(t, "", biasKernel(device.Relu, device.Int64))
}
