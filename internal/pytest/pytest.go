// Package pytest runs Python reference scripts from Go tests: the
// interoperability checks against NumPy and PyTorch. CI machines have no
// Python modules, so a test that needs them is skipped, never failed, when
// no interpreter can import them.
package pytest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// missingExit is the status a script's prelude exits with when an import
// fails, which tells "module missing" apart from a failing check.
const missingExit = 97

// interpreters lists the Python 3 candidates in order: $NABLA_PYTHON, the
// python3 on PATH, then the system's /usr/bin/python3 (where Debian's
// python3-torch and python3-numpy install).
func interpreters() []string {
	var out []string
	if p := os.Getenv("NABLA_PYTHON"); p != "" {
		out = append(out, p)
	}
	for _, cand := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(cand); err == nil {
			out = append(out, path)
		}
	}
	return out
}

// Run runs the Python source script with args under the first interpreter
// that can import modules (a comma-separated import list such as "numpy,
// torch") and returns its combined output. The script may read sys.argv.
// It skips the test when no interpreter can import the modules and fails
// it when the script fails.
func Run(t testing.TB, modules, script string, args ...string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "script.py")
	prelude := "import sys\ntry:\n    import " + modules + "\nexcept ImportError as e:\n    print(e)\n    sys.exit(97)\n"
	if err := os.WriteFile(file, []byte(prelude+script), 0o644); err != nil {
		t.Fatal(err)
	}
	return RunFile(t, file, args...)
}

// RunFile runs the Python file path with args, as Run does; the file must
// exit with status 97 when its imports are missing.
func RunFile(t testing.TB, path string, args ...string) string {
	t.Helper()
	var missing []string
	for _, python := range interpreters() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, python, append([]string{path}, args...)...).CombinedOutput()
		cancel()
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == missingExit {
			missing = append(missing, python+": "+strings.TrimSpace(string(out)))
			continue
		}
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", python, path, err, out)
		}
		return string(out)
	}
	t.Skipf("no Python 3 that can run %s (install python3-numpy / python3-torch): %v", filepath.Base(path), missing)
	return ""
}

// Find returns the first interpreter that can import modules, or skips
// the test.
func Find(t testing.TB, modules string) string {
	t.Helper()
	for _, python := range interpreters() {
		if exec.Command(python, "-c", "import "+modules).Run() == nil {
			return python
		}
	}
	t.Skipf("no Python 3 that can import %s", modules)
	return ""
}
