package kernels

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEveryModuleHasPTX checks that each kernels/*.cu has embedded PTX for
// every architecture, generated for that architecture.
func TestEveryModuleHasPTX(t *testing.T) {
	srcs, err := filepath.Glob("*.cu")
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no .cu sources found: %v", err)
	}
	mods := Modules()
	if len(mods) != len(srcs) {
		t.Fatalf("modules %v do not match sources %v; run build/gen-ptx.sh", mods, srcs)
	}
	for _, src := range srcs {
		name := strings.TrimSuffix(src, ".cu")
		for _, arch := range Archs {
			ptx, got, err := PTX(name, arch/10, arch%10)
			if err != nil {
				t.Fatal(err)
			}
			if got != arch {
				t.Fatalf("%s: PTX for compute_%d selected for sm_%d", name, got, arch)
			}
			if !strings.Contains(ptx, ".target sm_"+strconv.Itoa(arch)+"\n") {
				t.Fatalf("%s_%d.ptx does not target sm_%d", name, arch, arch)
			}
			if !strings.Contains(ptx, ".visible .entry") {
				t.Fatalf("%s_%d.ptx has no kernels", name, arch)
			}
		}
	}
	if _, err := os.Stat("nabla.cuh"); err != nil {
		t.Fatal(err)
	}
}

func TestSelect(t *testing.T) {
	for _, c := range []struct{ major, minor, want int }{{7, 0, 70}, {7, 5, 70}, {8, 0, 80}, {8, 9, 80}, {9, 0, 90}, {12, 0, 90}} {
		got, err := Select(c.major, c.minor)
		if err != nil || got != c.want {
			t.Errorf("Select(%d, %d) = %d, %v; want %d", c.major, c.minor, got, err, c.want)
		}
	}
	if _, err := Select(6, 0); err == nil {
		t.Error("Select(6, 0) should fail")
	}
	if _, _, err := PTX("nope", 9, 0); err == nil || !strings.Contains(err.Error(), "known modules") {
		t.Errorf("PTX of an unknown module: %v", err)
	}
}
