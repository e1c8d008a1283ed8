package tensor_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/ptxvm"
	"github.com/nabla-go/nabla/kernels"
)

// confLaunchesEnv names the file where a child process running the
// conformance suite on the PTX virtual machine writes the kernels it
// launched.
const confLaunchesEnv = "NABLA_CONFORMANCE_LAUNCHES"

// confUnlaunched lists the kernels the conformance suite does not
// launch, each with the reason. Kernels that nothing asks for are not
// compiled at all (kernels/*.cu), so that the PTX the driver must JIT
// carries none; add an entry only with the reason a kernel must ship
// untested by this suite.
var confUnlaunched = map[string]string{
	"random_f32":  hostRandom,
	"random_f64":  hostRandom,
	"random_i64":  hostRandom,
	"random_u8":   hostRandom,
	"random_bool": hostRandom,
}

// hostRandom: the Random kernels serve device.Backend.Random.
const hostRandom = "package tensor draws random tensors on the host from PyTorch's Mersenne Twister and copies them to the device, so it never asks the backend's Philox Random (device/cuda's tests check it against the CPU's)"

// TestConformanceOnVM runs the conformance suite in a child process whose
// cuda:0 is the PTX virtual machine (NABLA_CUDA=emulate): every CUDA
// kernel the backend launches runs from the embedded PTX a 9.0 device
// JIT-compiles (the sm_80 and sm_90 machine code is assembled from the
// same PTX), with memcheck and racecheck, against the CPU. It then checks
// that every .entry of that PTX was launched, or is listed in
// confUnlaunched with a reason.
func TestConformanceOnVM(t *testing.T) {
	if os.Getenv("NABLA_CUDA") == "emulate" || os.Getenv(confSelfTestEnv) == "1" {
		t.Skip("the child process runs TestConformance only")
	}
	for _, d := range device.List() {
		if !d.IsCPU() {
			t.Skip("a CUDA device is present: TestConformance checks it directly")
		}
	}
	if testing.Short() {
		t.Skip("runs the suite on the PTX virtual machine in a child process (about half a minute)")
	}
	launches := filepath.Join(t.TempDir(), "launches.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestConformance$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "NABLA_CUDA=emulate", confLaunchesEnv+"="+launches)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child process:\n%s", out)
	require.Contains(t, string(out), "--- PASS: TestConformance/cuda:0")

	raw, err := os.ReadFile(launches)
	require.NoError(t, err)
	var launched map[string]int
	require.NoError(t, json.Unmarshal(raw, &launched))

	vm := ptxvm.New(ptxvm.Config{})
	var missing []string
	total := 0
	for _, name := range kernels.Modules() {
		src, _, err := kernels.PTXText(name, 9, 0)
		require.NoError(t, err)
		m, err := vm.LoadModule(src)
		require.NoError(t, err)
		for _, e := range m.Entries() {
			total++
			if launched[e] == 0 && confUnlaunched[e] == "" {
				missing = append(missing, name+"."+e)
			}
		}
	}
	sort.Strings(missing)
	t.Logf("the suite launched %d of the %d kernels", len(launched), total)
	require.Empty(t, missing, "kernels the conformance suite never launches (%d): %s\ntest them, or list them in confUnlaunched with the reason",
		len(missing), strings.Join(missing, " "))
}

// confWriteLaunches writes the virtual machine's launch counts for
// TestConformanceOnVM.
func confWriteLaunches(t *testing.T) {
	path := os.Getenv(confLaunchesEnv)
	if path == "" {
		return
	}
	raw, err := json.Marshal(ptxvm.Shared().Launched())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw, 0o644))
}
