package tensor

import (
	"fmt"
	"testing"
)

// The elementwise and reduction benchmarks run on 16M float32 elements
// (64 MiB per operand), large enough to be bound by memory bandwidth or
// arithmetic rather than by call overhead. They report GB/s moved.
const benchElems = 16 << 20

func benchUnary(b *testing.B, bytesPerElem int, f func(x *Tensor) *Tensor) {
	x := Randn(benchElems)
	b.SetBytes(int64(bytesPerElem * benchElems))
	b.ResetTimer()
	for range b.N {
		f(x)
	}
}

func BenchmarkAdd16M(b *testing.B) {
	y := Randn(benchElems)
	benchUnary(b, 12, func(x *Tensor) *Tensor { return x.Add(y) })
}

func BenchmarkMulScalar16M(b *testing.B) {
	benchUnary(b, 8, func(x *Tensor) *Tensor { return x.Mul(1.5) })
}

func BenchmarkExp16M(b *testing.B) { benchUnary(b, 8, (*Tensor).Exp) }

func BenchmarkSigmoid16M(b *testing.B) { benchUnary(b, 8, (*Tensor).Sigmoid) }

func BenchmarkRelu16M(b *testing.B) { benchUnary(b, 8, (*Tensor).Relu) }

func BenchmarkSum16M(b *testing.B) {
	benchUnary(b, 4, func(x *Tensor) *Tensor { return x.Sum() })
}

func BenchmarkSumRows(b *testing.B) {
	for _, shape := range [][2]int{{4096, 4096}, {64, 256}} {
		x := Randn(shape[0], shape[1])
		for dim := range 2 {
			b.Run(fmt.Sprintf("%dx%d/dim%d", shape[0], shape[1], dim), func(b *testing.B) {
				b.SetBytes(int64(4 * x.Numel()))
				for range b.N {
					x.Sum(dim)
				}
			})
		}
	}
}

func BenchmarkSoftmax(b *testing.B) {
	x := Randn(4096, 1024)
	b.SetBytes(int64(8 * x.Numel()))
	for range b.N {
		x.Softmax(1)
	}
}
