package prim_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/prim"
)

func TestActivationString(t *testing.T) {
	for _, c := range []struct {
		act  prim.Activation
		want string
	}{
		{prim.Activation{Kind: prim.ActNone}, "None"},
		{prim.Activation{Kind: prim.ActRelu}, "ReLU"},
		{prim.Activation{Kind: prim.ActLeakyRelu, Alpha: 0.01}, "LeakyReLU(0.01)"},
		{prim.Activation{Kind: prim.ActSigmoid}, "Sigmoid"},
		{prim.Activation{Kind: prim.ActTanh}, "Tanh"},
		{prim.Activation{Kind: prim.ActElu, Alpha: 1.5}, "ELU(1.5)"},
		{prim.Activation{Kind: prim.ActSoftplus}, "Softplus"},
		{prim.Activation{Kind: prim.ActGelu}, "GELU"},
		{prim.Activation{Kind: 42}, "Activation(42)"},
	} {
		require.Equal(t, c.want, c.act.String())
	}
}
