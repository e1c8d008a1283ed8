package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOpenBLASCore(t *testing.T) {
	avx512 := []string{"skylakex", "cooperlake", "sapphirerapids"}
	cases := []struct {
		name, user, detected, best string
		asGood                     []string
		override, note             string
	}{
		{"masked VM: generic kernel replaced", "", "Prescott", "SkylakeX", avx512,
			"SkylakeX", "OpenBLAS core SkylakeX (set OPENBLAS_CORETYPE=SkylakeX: OpenBLAS chose its Prescott kernel for this CPU)"},
		{"detected right", "", "SkylakeX", "SkylakeX", avx512, "", "OpenBLAS core SkylakeX"},
		{"newer core kept", "", "Cooperlake", "SkylakeX", avx512, "", "OpenBLAS core Cooperlake"},
		{"the user's setting wins", "Haswell", "", "SkylakeX", avx512, "", "OpenBLAS core Haswell (OPENBLAS_CORETYPE)"},
		{"torch without OpenBLAS", "", "", "SkylakeX", avx512, "", ""},
		{"CPU without AVX2", "", "Nehalem", "", nil, "", "OpenBLAS core Nehalem"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			override, note := openblasCore(c.user, c.detected, c.best, c.asGood)
			require.Equal(t, c.override, override)
			require.Equal(t, c.note, note)
		})
	}
}
