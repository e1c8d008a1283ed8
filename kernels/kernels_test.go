package kernels

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryModuleHasCode checks that each kernels/*.cu has embedded
// compute_70 PTX and machine code for sm_80 and sm_90.
func TestEveryModuleHasCode(t *testing.T) {
	srcs, err := filepath.Glob("*.cu")
	require.NoError(t, err)
	require.NotEmpty(t, srcs)
	var names []string
	for _, src := range srcs {
		names = append(names, strings.TrimSuffix(src, ".cu"))
	}
	require.Equal(t, names, Modules(), "run build/gen-ptx.sh and build/gen-sass.sh")
	for _, name := range names {
		archs := PTXArchs(name)
		require.Equal(t, 70, archs[0], "%s: compute_70 PTX", name)
		for _, arch := range archs {
			src, got, err := PTXText(name, arch/10, arch%10)
			require.NoError(t, err)
			require.Equal(t, arch, got)
			require.Contains(t, src, fmt.Sprintf(".target sm_%d\n", arch), "%s_%d.ptx", name, arch)
			require.Contains(t, src, ".visible .entry", "%s_%d.ptx has no kernels", name, arch)
		}
		require.Equal(t, []int{80, 90}, SASSArchs(name), "%s: machine code", name)
	}
	_, err = os.Stat("nabla.cuh")
	require.NoError(t, err)
}

// TestChoose checks which code each kind of device loads.
func TestChoose(t *testing.T) {
	type want struct {
		form      Form
		arch      int
		matmulPTX int // the PTX architecture matmul loads when form is PTX
	}
	cases := []struct {
		name         string
		major, minor int
		machineCode  bool
		want         want
	}{
		{"H100/H200", 9, 0, true, want{SASS, 90, 0}},
		{"RTX 4090/L4 (sm_89 runs sm_80 code)", 8, 9, true, want{SASS, 80, 0}},
		{"A10/RTX 3090", 8, 6, true, want{SASS, 80, 0}},
		{"A100", 8, 0, true, want{SASS, 80, 0}},
		{"T4", 7, 5, true, want{PTX, 70, 70}},
		{"V100", 7, 0, true, want{PTX, 70, 70}},
		{"B200 (no machine code yet)", 10, 0, true, want{PTX, 70, 80}},
		{"RTX 5090", 12, 0, true, want{PTX, 70, 80}},
		{"PTX virtual machine as 9.0", 9, 0, false, want{PTX, 70, 80}},
		{"PTX virtual machine as 7.0", 7, 0, false, want{PTX, 70, 70}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, mod := range Modules() {
				im, err := Choose(mod, c.major, c.minor, c.machineCode)
				require.NoError(t, err)
				require.Equal(t, mod, im.Module)
				require.Equal(t, c.want.form, im.Form, mod)
				wantArch := c.want.arch
				if mod == "matmul" && c.want.form == PTX {
					wantArch = c.want.matmulPTX
				}
				require.Equal(t, wantArch, im.Arch, mod)
				if im.Form == PTX {
					require.Equal(t, byte(0), im.Data[len(im.Data)-1], "PTX ends in a NUL byte")
					require.Equal(t, fmt.Sprintf("compute_%d PTX", wantArch), im.String())
				} else {
					require.True(t, bytes.HasPrefix(im.Data, []byte(elf.ELFMAG)), "a cubin is an ELF file")
					require.Equal(t, fmt.Sprintf("sm_%d machine code", wantArch), im.String())
				}
			}
		})
	}
	_, err := Choose("unary", 6, 1, true)
	require.ErrorContains(t, err, "compute capability 6.1 is not supported")
	_, err = Choose("nope", 9, 0, true)
	require.ErrorContains(t, err, "known modules")
}

var entryRE = regexp.MustCompile(`(?m)^\.visible \.entry (\w+)\(`)

// TestMachineCodeMatchesPTX checks that each embedded cubin is machine
// code for its architecture and holds exactly the kernels of the PTX it
// is assembled from, so that machine code and PTX cannot drift apart
// (build/check-kernels.sh also reassembles them byte for byte).
func TestMachineCodeMatchesPTX(t *testing.T) {
	for _, mod := range Modules() {
		for _, arch := range SASSArchs(mod) {
			t.Run(fmt.Sprintf("%s/sm_%d", mod, arch), func(t *testing.T) {
				src, _, err := PTXText(mod, arch/10, arch%10)
				require.NoError(t, err)
				var want []string
				for _, m := range entryRE.FindAllStringSubmatch(src, -1) {
					want = append(want, m[1])
				}
				require.NotEmpty(t, want)

				im, err := Choose(mod, arch/10, arch%10, true)
				require.NoError(t, err)
				require.Equal(t, SASS, im.Form)
				f, err := elf.NewFile(bytes.NewReader(standardVersion(im.Data)))
				require.NoError(t, err)
				require.Equal(t, elf.EM_CUDA, f.Machine)
				// The low byte of a cubin's e_flags is its SM version.
				require.Equal(t, arch, int(cubinFlags(t, im.Data)&0xff))
				syms, err := f.Symbols()
				require.NoError(t, err)
				var got []string
				for _, s := range syms {
					if elf.ST_TYPE(s.Info) == elf.STT_FUNC && elf.ST_BIND(s.Info) == elf.STB_GLOBAL {
						got = append(got, s.Name)
					}
				}
				require.ElementsMatch(t, want, got)
			})
		}
	}
}

// cubinFlags reads e_flags of a 64-bit little-endian ELF header, which
// debug/elf does not expose.
func cubinFlags(t *testing.T, data []byte) uint32 {
	require.GreaterOrEqual(t, len(data), 52)
	require.Equal(t, byte(elf.ELFCLASS64), data[elf.EI_CLASS])
	return uint32(data[48]) | uint32(data[49])<<8 | uint32(data[50])<<16 | uint32(data[51])<<24
}

// standardVersion returns a copy of a cubin whose ELF version fields say
// 1: ptxas writes its own ABI version there, which debug/elf refuses.
func standardVersion(cubin []byte) []byte {
	c := bytes.Clone(cubin)
	c[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	c[20], c[21], c[22], c[23] = byte(elf.EV_CURRENT), 0, 0, 0 // e_version
	return c
}
