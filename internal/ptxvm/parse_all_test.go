package ptxvm

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/kernels"
)

// TestCompileEveryKernel parses every committed PTX file (every family
// and architecture) and compiles every .entry with the .funcs it calls.
func TestCompileEveryKernel(t *testing.T) {
	d := New(Config{})
	total := 0
	for _, name := range kernels.Modules() {
		for _, arch := range kernels.PTXArchs(name) {
			src, got, err := kernels.PTXText(name, arch/10, arch%10)
			require.NoError(t, err)
			require.Equal(t, arch, got)
			m, err := d.LoadModule(src)
			require.NoError(t, err, "%s_%d", name, arch)
			entries := m.Entries()
			require.NotEmpty(t, entries, "%s_%d", name, arch)
			for _, e := range entries {
				_, err := m.Function(e)
				require.NoError(t, err, "%s_%d", name, arch)
			}
			total += len(entries)
		}
	}
	fmt.Println("entries", total)
}
