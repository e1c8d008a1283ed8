package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"

	"golang.org/x/sys/cpu"
)

// PyTorch on Debian calls OpenBLAS, which picks its kernels from the CPU
// model that cpuid reports. Virtual machines often mask the model, and
// OpenBLAS then falls back to a generic kernel ("Prescott") about five
// times slower than the one the CPU's features allow: a win over that is
// no win. So before timing PyTorch, the bench asks OpenBLAS which core it
// chose and, where that is weaker than the CPU's features, names the right
// one in OPENBLAS_CORETYPE (a setting of the user's own is kept).

// openblasCoreScript prints the core OpenBLAS chose in a process that has
// imported torch ("" when torch does not use OpenBLAS).
const openblasCoreScript = `
import ctypes, torch
torch.ones(8, 8) @ torch.ones(8, 8)
name = ""
for lib in sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l.lower() and l.split()[-1].startswith("/")}):
    try:
        f = ctypes.CDLL(lib).openblas_get_corename
    except (OSError, AttributeError):
        continue
    f.restype = ctypes.c_char_p
    name = f().decode()
    break
print(name)
`

// bestOpenBLASCore names the OpenBLAS core for this CPU's features and the
// cores that are at least as good: SkylakeX with AVX-512, Haswell with
// AVX2 and FMA; "" where OpenBLAS's own choice is as good as any.
func bestOpenBLASCore() (core string, asGood []string) {
	x := cpu.X86
	switch {
	case x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512DQ:
		return "SkylakeX", []string{"skylakex", "cooperlake", "sapphirerapids"}
	case x.HasAVX2 && x.HasFMA:
		return "Haswell", []string{"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"}
	}
	return "", nil
}

// openblasSetup returns the environment to run PyTorch with and a note
// that says which OpenBLAS core it uses.
func openblasSetup(python string) (env []string, note string) {
	env = os.Environ()
	user := os.Getenv("OPENBLAS_CORETYPE")
	detected := ""
	if user == "" {
		out, err := exec.Command(python, "-c", openblasCoreScript).Output()
		if err == nil {
			detected = strings.TrimSpace(string(out))
		}
	}
	best, asGood := bestOpenBLASCore()
	override, note := openblasCore(user, detected, best, asGood)
	if override != "" {
		env = append(env, "OPENBLAS_CORETYPE="+override)
	}
	return env, note
}

// openblasCore decides the OPENBLAS_CORETYPE to set (or "") from the
// user's setting, the core OpenBLAS detected on its own ("" if unknown)
// and the best core for the CPU with those as good as it.
func openblasCore(user, detected, best string, asGood []string) (override, note string) {
	switch {
	case user != "":
		return "", "OpenBLAS core " + user + " (OPENBLAS_CORETYPE)"
	case detected == "":
		return "", ""
	case best == "" || slices.Contains(asGood, strings.ToLower(detected)):
		return "", "OpenBLAS core " + detected
	}
	return best, "OpenBLAS core " + best + " (set OPENBLAS_CORETYPE=" + best + ": OpenBLAS chose its " + detected + " kernel for this CPU)"
}
