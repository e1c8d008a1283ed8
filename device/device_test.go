package device

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in      string
		want    Device
		wantErr string
	}{
		{in: "cpu", want: CPU()},
		{in: " CPU ", want: CPU()},
		{in: "auto", want: Best()},
		{in: "", want: Best()},
		{in: "cuda", wantErr: "rebuild with `go build -tags cuda`"},
		{in: "cuda:1", wantErr: "rebuild with `go build -tags cuda`"},
		{in: "cuda:x", wantErr: "non-negative integer"},
		{in: "cuda:-1", wantErr: "non-negative integer"},
		{in: "tpu", wantErr: `unknown device "tpu" (want cpu, cuda, cuda:N or auto)`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			d, err := Parse(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, d)
		})
	}
	_, err := Parse("cuda")
	if providers[KindCUDA] == nil {
		require.True(t, errors.Is(err, ErrNoCUDA))
	}
}

func TestDeviceStringRoundTrip(t *testing.T) {
	require.Equal(t, "cpu", CPU().String())
	require.Equal(t, "cuda:3", CUDA(3).String())
	require.True(t, CPU().IsCPU())
	require.Equal(t, CPU(), Device{})
}

func TestGetCPUWithoutBackend(t *testing.T) {
	// Package device's tests link no backend: the error must say which
	// package brings the CPU's.
	saved := host.Load()
	Register(KindCPU, nil)
	defer host.Store(saved)
	_, err := Get(CPU())
	require.ErrorContains(t, err, "import github.com/nabla-go/nabla/device/cpu")
	_, err = Get(Device{Kind: KindCPU, Index: 2})
	require.ErrorContains(t, err, "import github.com/nabla-go/nabla/device/cpu")
}

func TestDTypes(t *testing.T) {
	for _, dt := range []DType{Float32, Float64, Int64, Bool, Uint8} {
		got, err := ParseDType(dt.String())
		require.NoError(t, err)
		require.Equal(t, dt, got)
		require.Positive(t, dt.Size())
	}
	_, err := ParseDType("complex64")
	require.Error(t, err)
	require.Equal(t, "dtype(9)", DType(9).String())
}

func TestLayout(t *testing.T) {
	l := Contiguous(2, 3, 4)
	require.Equal(t, []int{12, 4, 1}, l.Strides)
	require.True(t, l.IsContiguous())
	require.Equal(t, 24, l.Span())
	tr := Layout{Shape: []int{3, 2}, Strides: []int{1, 3}}
	require.False(t, tr.IsContiguous())
	require.Equal(t, 6, tr.Span())
	require.True(t, Layout{Shape: []int{1, 5}, Strides: []int{99, 1}}.IsContiguous())
	require.Equal(t, 0, Contiguous(0, 5).Span())
}
