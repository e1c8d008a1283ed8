package tensor_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

func TestCatch(t *testing.T) {
	require.NoError(t, tensor.Catch(func() {}))
	require.NoError(t, tensor.Catch(func() { tensor.Ones(2).Add(1) }))

	err := tensor.Catch(func() { tensor.Zeros(4, 3).MatMul(tensor.Zeros(2, 5)) })
	require.EqualError(t, err, "tensor: MatMul: shapes [4 3] and [2 5] do not match (inner 3 != 2)")
	require.ErrorIs(t, err, tensor.ErrShape)
	require.NotErrorIs(t, err, tensor.ErrDType)
	var te *tensor.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, "MatMul", te.Op)
	require.Equal(t, "shapes [4 3] and [2 5] do not match (inner 3 != 2)", te.Msg)
	require.Nil(t, te.Cause)

	// Panics that are not tensor errors are bugs: they propagate unchanged.
	require.PanicsWithValue(t, "boom", func() { _ = tensor.Catch(func() { panic("boom") }) })
	plain := errors.New("plain error")
	require.PanicsWithError(t, "plain error", func() { _ = tensor.Catch(func() { panic(plain) }) })
	require.Panics(t, func() {
		_ = tensor.Catch(func() {
			var s []int
			_ = s[len(s)+3] // a deliberate runtime error
		})
	})
	// A *tensor.Error wrapped by another error is not a tensor panic.
	wrapped := fmt.Errorf("outer: %w", &tensor.Error{Op: "X", Kind: tensor.ErrShape, Msg: "m"})
	require.Panics(t, func() { _ = tensor.Catch(func() { panic(wrapped) }) })

	// Nested Catch: the inner one handles the error.
	outer := tensor.Catch(func() {
		inner := tensor.Catch(func() { tensor.Ones(2).Add(tensor.Ones(3)) })
		require.ErrorIs(t, inner, tensor.ErrShape)
	})
	require.NoError(t, outer)
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		kind error
	}{
		{"Shape", func() { tensor.Ones(2).Add(tensor.Ones(3)) }, tensor.ErrShape},
		{"DType", func() { tensor.Ones(2).Add(tensor.Of(tensor.Int64).Ones(2)) }, tensor.ErrDType},
		{"Index", func() { tensor.Ones(2).Select(0, 5) }, tensor.ErrIndex},
		{"Argument", func() { tensor.Ones(2).Slice(0, 0, 2, 0) }, tensor.ErrArgument},
		{"Backend", func() { tensor.FromSlice([]int64{1}).Div(0) }, tensor.ErrBackend},
		{"HostReadDType", func() { tensor.Ones(1).Float64s() }, tensor.ErrDType},
		{"Device", func() { tensor.On(device.CUDA(7)).Ones(1) }, tensor.ErrDevice},
	}
	sentinels := []error{tensor.ErrShape, tensor.ErrDevice, tensor.ErrDType, tensor.ErrIndex, tensor.ErrArgument, tensor.ErrBackend}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tensor.Catch(tc.f)
			require.Error(t, err)
			for _, s := range sentinels {
				require.Equal(t, s == tc.kind, errors.Is(err, s), "errors.Is(%q, %v)", err, s)
			}
		})
	}
}

func TestErrorCause(t *testing.T) {
	// Backend failures keep the backend's error as the cause.
	err := tensor.Catch(func() { tensor.FromSlice([]int64{4, 2}).Div(tensor.FromSlice([]int64{2, 0})) })
	require.ErrorIs(t, err, tensor.ErrBackend)
	var te *tensor.Error
	require.ErrorAs(t, err, &te)
	require.Error(t, te.Cause)
	require.ErrorIs(t, err, te.Cause)
	require.Equal(t, "tensor: Div: "+te.Cause.Error(), err.Error())
	require.Equal(t, []error{tensor.ErrBackend, te.Cause}, te.Unwrap())

	e := &tensor.Error{Op: "Op", Kind: tensor.ErrIndex, Msg: "what went wrong"}
	require.Equal(t, "tensor: Op: what went wrong", e.Error())
	require.Equal(t, []error{tensor.ErrIndex}, e.Unwrap())
}

func TestBroadcastShapes(t *testing.T) {
	tests := []struct {
		in   [][]int
		want []int
	}{
		{nil, []int{}},
		{[][]int{{}}, []int{}},
		{[][]int{{3}}, []int{3}},
		{[][]int{{2, 3}, {3}}, []int{2, 3}},
		{[][]int{{2, 1}, {1, 3}}, []int{2, 3}},
		{[][]int{{5, 1, 4}, {3, 1}, {}}, []int{5, 3, 4}},
		{[][]int{{0}, {1}}, []int{0}},
		{[][]int{{1}, {0}}, []int{0}},
		{[][]int{{2, 0}, {2, 1}}, []int{2, 0}},
		{[][]int{{1, 1}, {1}}, []int{1, 1}},
		{[][]int{{4, 1}, {1, 1}, {1, 7}}, []int{4, 7}},
	}
	for _, tc := range tests {
		got, err := tensor.BroadcastShapes(tc.in...)
		require.NoError(t, err, "%v", tc.in)
		require.Equal(t, tc.want, got, "%v", tc.in)
	}
	_, err := tensor.BroadcastShapes([]int{2, 3}, []int{4})
	require.EqualError(t, err, "tensor: Broadcast: shapes [2 3] and [4] do not broadcast (dimension -1: 3 vs 4)")
	require.ErrorIs(t, err, tensor.ErrShape)
	_, err = tensor.BroadcastShapes([]int{3, 2}, []int{4, 2}, []int{2})
	require.ErrorContains(t, err, "shapes [3 2] and [4 2] and [2] do not broadcast (dimension -2: 3 vs 4)")
	_, err = tensor.BroadcastShapes([]int{0}, []int{2})
	require.ErrorIs(t, err, tensor.ErrShape)
	_, err = tensor.BroadcastShapes([]int{-1})
	require.ErrorIs(t, err, tensor.ErrShape)
	require.ErrorContains(t, err, "negative dimension")
}
