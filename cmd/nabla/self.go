package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
)

// self returns the command that starts this program the way the user
// started it, for the commands the program suggests ("evaluate with: ...",
// "resume with: ..."): "nabla" when it was found on the PATH, the path as
// typed ("./nabla") otherwise, and "go run ./cmd/nabla" (or the package
// path) after go run, which leaves no nabla binary behind. Tests replace it.
var self = sync.OnceValue(func() string {
	cwd, _ := os.Getwd()
	var mainPkg, module, version string
	if bi, ok := debug.ReadBuildInfo(); ok {
		mainPkg, module, version = bi.Path, bi.Main.Path, bi.Main.Version
	}
	return invocation(os.Args[0], cwd, mainPkg, module, version)
})

// goRunCache matches the directory in the build cache where go run
// (Go 1.24 and later) keeps the executables it builds: the hash of the
// build and "-d".
var goRunCache = regexp.MustCompile(`^[0-9a-f]{64}-d$`)

// builtByGoRun reports whether the executable at path is one that go run
// built: in a go-build temporary directory ($TMPDIR/go-build123/b001/exe)
// or in the build cache ($GOCACHE, by default .../go-build, .../<hash>-d).
func builtByGoRun(path string) bool {
	dir := filepath.Dir(filepath.Clean(path))
	if goRunCache.MatchString(filepath.Base(dir)) {
		return true
	}
	for _, elem := range strings.Split(filepath.ToSlash(dir), "/") {
		if strings.HasPrefix(elem, "go-build") {
			return true
		}
	}
	return false
}

// invocation is self's answer for a program started as argv0 in the
// directory cwd, built from the main package mainPkg of module at version.
func invocation(argv0, cwd, mainPkg, module, version string) string {
	if !builtByGoRun(argv0) {
		// "nabla" found on the PATH, or a path ("./nabla", "bin/nabla")
		// that works as typed from the same directory.
		return argv0
	}
	if mainPkg == "" {
		return "go run github.com/nabla-go/nabla/cmd/nabla"
	}
	// Inside the module's source tree: go run with the relative directory.
	if root := moduleRoot(cwd, module); root != "" && (mainPkg == module || strings.HasPrefix(mainPkg, module+"/")) {
		dir := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(mainPkg, module)))
		if rel, err := filepath.Rel(cwd, dir); err == nil {
			rel = filepath.ToSlash(rel)
			if !strings.HasPrefix(rel, ".") {
				rel = "./" + rel
			}
			return "go run " + rel
		}
	}
	if version != "" && version != "(devel)" && strings.HasPrefix(mainPkg, module) {
		return "go run " + mainPkg + "@" + version
	}
	return "go run " + mainPkg
}

// moduleRoot returns the directory at or above dir whose go.mod declares
// module, or "" when there is none.
func moduleRoot(dir, module string) string {
	if dir == "" || module == "" {
		return ""
	}
	for {
		if modulePath(filepath.Join(dir, "go.mod")) == module {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// modulePath reads the module line of the go.mod file at path.
func modulePath(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
