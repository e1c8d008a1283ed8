package cuda

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/ptxvm"
	"github.com/nabla-go/nabla/kernels"
)

// gpuLikeDriver serves a PTX virtual machine of a chosen compute
// capability but claims, as the GPU driver does, to load machine code. Its
// loadModule records each image and fails it with a JIT log, since the
// virtual machine cannot run machine code: the tests below check what the
// backend chooses to load, and how it reports a failed load.
type gpuLikeDriver struct {
	vmDriver
	loaded *[]loadedImage
}

type loadedImage struct {
	cubin bool
	arch  int // the SM version of a cubin (the low byte of e_flags)
}

func (d *gpuLikeDriver) open(index int) (gpuDriver, deviceProps, error) {
	g, props, err := d.vmDriver.open(index)
	props.MachineCode = true
	props.Emulated = false
	return recordingGPU{g, d.loaded}, props, err
}

type recordingGPU struct {
	gpuDriver
	loaded *[]loadedImage
}

func (g recordingGPU) loadModule(image []byte) (module, error) {
	im := loadedImage{cubin: bytes.HasPrefix(image, []byte("\x7fELF"))}
	if im.cubin {
		im.arch = int(binary.LittleEndian.Uint32(image[48:52]) & 0xff)
	}
	*g.loaded = append(*g.loaded, im)
	return module{}, jitError(&driverError{code: 218, name: "CUDA_ERROR_INVALID_PTX", msg: "a PTX JIT compilation failed"},
		"ptxas application ptx input, line 7; error   : Unknown symbol 'x'", "")
}

// TestKernelCodeChoice checks which code a backend loads for its kernels
// on each kind of GPU: machine code on sm_80 and sm_90 devices (so that
// an H100 loads no PTX), PTX elsewhere, and what a failed load reports.
func TestKernelCodeChoice(t *testing.T) {
	cases := []struct {
		name         string
		major, minor int
		code         string // Backend.KernelCode
		cubinArch    int    // the SM version of the unary module's image; 0: PTX
	}{
		{"H100", 9, 0, "sm_90 machine code", 90},
		{"RTX 4090: sm_89 runs sm_80 machine code", 8, 9, "sm_80 machine code", 80},
		{"A100", 8, 0, "sm_80 machine code", 80},
		{"T4", 7, 5, "compute_70 PTX", 0},
		{"B200", 10, 0, "compute_70 PTX; matmul: compute_80 PTX", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var loaded []loadedImage
			drv := gpuLikeDriver{vmDriver{ptxvm.New(ptxvm.Config{Major: c.major, Minor: c.minor})}, &loaded}
			b, err := newBackend(&drv, 0)
			require.NoError(t, err)
			defer func() { require.NoError(t, b.Close()) }()
			require.Equal(t, c.code, b.KernelCode())
			info, err := b.Describe()
			require.NoError(t, err)
			require.Contains(t, info.String(), "kernels: "+c.code)

			buf, err := b.Alloc(device.Float32, 4)
			require.NoError(t, err)
			v := device.View{Buf: buf, Layout: device.Contiguous(4)}
			err = b.Unary(device.Exp, v, v, 0, 0)
			require.Error(t, err)
			require.Len(t, loaded, 1)
			require.Equal(t, loadedImage{cubin: c.cubinArch != 0, arch: c.cubinArch}, loaded[0])
			// The error names the module, the code, the GPU and the JIT log.
			want := `loading kernel module "unary" (` + c.code
			if c.cubinArch == 0 {
				want = `loading kernel module "unary" (compute_70 PTX`
			}
			require.ErrorContains(t, err, want)
			require.ErrorContains(t, err, "compute capability")
			require.ErrorContains(t, err, "CUDA_ERROR_INVALID_PTX")
			require.ErrorContains(t, err, "JIT error log:\nptxas application ptx input, line 7")
			require.Empty(t, b.LoadedModules(), "a failed load is not recorded")
		})
	}
}

// TestLoadedModulesOnVM checks that the PTX virtual machine loads PTX
// (it cannot run machine code), and that the backend records each load.
func TestLoadedModulesOnVM(t *testing.T) {
	b, err := newBackend(&vmDriver{dev: ptxvm.New(ptxvm.Config{Major: 9})}, 0)
	require.NoError(t, err)
	defer func() { require.NoError(t, b.Close()) }()
	require.Equal(t, "compute_70 PTX; matmul: compute_80 PTX", b.KernelCode())
	buf, err := b.Alloc(device.Float32, 4)
	require.NoError(t, err)
	v := device.View{Buf: buf, Layout: device.Contiguous(4)}
	require.NoError(t, b.Fill(v, 1))
	require.NoError(t, b.Unary(device.Exp, v, v, 0, 0))
	require.NoError(t, b.Unary(device.Exp, v, v, 0, 0))
	loads := b.LoadedModules()
	require.NotEmpty(t, loads)
	for _, l := range loads {
		require.True(t, l.PTX, "%+v", l)
		require.Equal(t, "compute_70 PTX", l.Code)
		require.Positive(t, l.Took)
	}
	require.Equal(t, "unary", loads[len(loads)-1].Module, "loaded once, on first use")

	// Machine code handed to the virtual machine is refused clearly.
	_, err = vmGPU{ptxvm.New(ptxvm.Config{}), new(vmContext)}.loadModule([]byte("\x7fELF\x02\x01"))
	require.ErrorContains(t, err, "runs PTX, not machine code")
}

// TestKernelLoadTimes loads every kernel module twice on fresh backends
// of the registered device, as machine code where the device has some
// and as PTX, and logs each load's time: on a GPU (run it with
// CUDA_CACHE_DISABLE=1) that is the start-up cost machine code saves. On
// an sm_80 or sm_90 GPU it checks that no module needed the JIT.
func TestKernelLoadTimes(t *testing.T) {
	testBackend(t)
	regMu.Lock()
	drv := active
	regMu.Unlock()
	took := map[bool]map[string]ModuleLoad{}
	for _, ptxOnly := range []bool{false, true} {
		b, err := newBackend(drv, 0)
		require.NoError(t, err)
		if ptxOnly {
			b.machineCode = false
		}
		for _, mod := range kernels.Modules() {
			_, err := b.module(mod)
			require.NoError(t, err)
		}
		took[ptxOnly] = map[string]ModuleLoad{}
		for _, l := range b.LoadedModules() {
			took[ptxOnly][l.Module] = l
		}
		major, minor := b.ComputeCapability()
		if !ptxOnly && !b.Emulated() && (major == 8 || major == 9) && os.Getenv("NABLA_CUDA_PTX") != "1" {
			for _, l := range b.LoadedModules() {
				require.False(t, l.PTX, "compute capability %d.%d: module %s loaded %s", major, minor, l.Module, l.Code)
			}
		}
		require.NoError(t, b.Close())
	}
	var total [2]time.Duration
	t.Logf("%-12s %-22s %10s   %-16s %10s", "module", "default", "load", "PTX", "load")
	for _, mod := range kernels.Modules() {
		d, p := took[false][mod], took[true][mod]
		t.Logf("%-12s %-22s %10v   %-16s %10v", mod, d.Code, d.Took.Round(time.Microsecond), p.Code, p.Took.Round(time.Microsecond))
		total[0] += d.Took
		total[1] += p.Took
	}
	t.Logf("%-12s %-22s %10v   %-16s %10v", "total", "", total[0].Round(time.Microsecond), "", total[1].Round(time.Microsecond))
}
