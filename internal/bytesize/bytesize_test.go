package bytesize

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1073741824", 1 << 30, true},
		{"8GiB", 8 << 30, true},
		{"8G", 8 << 30, true},
		{"8gib", 8 << 30, true},
		{"1.5 GiB", 3 << 29, true},
		{"512MiB", 512 << 20, true},
		{"500MB", 500e6, true},
		{"2TB", 2e12, true},
		{"7B", 7, true},
		{"unlimited", -1, true},
		{"0", 0, true},
		{"", 0, false},
		{"lots", 0, false},
		{"-1G", 0, false},
		{"8 parsecs", 0, false},
		{"NaN", 0, false},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := Parse(c.in)
			if !c.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}
