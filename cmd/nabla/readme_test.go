package main

import (
	"flag"
	"go/parser"
	"go/scanner"
	"go/token"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// updateReadme makes TestReadmeSample write the output it gets into the
// README instead of comparing: go test ./cmd/nabla -run TestReadmeSample -update-readme
var updateReadme = flag.Bool("update-readme", false, "TestReadmeSample: write the sample output into README.md")

const readmePath = "../../README.md"

// readmeSection returns the text of the README's section with this
// heading, up to the next heading of its level.
func readmeSection(t *testing.T, readme, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "\n"+heading+"\n")
	require.True(t, ok, "README.md has no section %q", heading)
	// The section's own text ends at the next heading, a subsection's
	// included.
	if i := strings.Index(rest, "\n#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// goTokens splits Go source into tokens, leaving out comments and, unless
// semicolons is set, semicolons (where a one-line snippet and gofmt's
// lines differ).
func goTokens(t *testing.T, src string, semicolons bool) []string {
	t.Helper()
	var s scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	s.Init(file, []byte(src), func(pos token.Position, msg string) { t.Fatalf("%q: %s", src, msg) }, 0)
	var toks []string
	for {
		_, tok, lit := s.Scan()
		switch {
		case tok == token.EOF:
			return toks
		case tok == token.COMMENT, tok == token.SEMICOLON && !semicolons:
		case tok == token.SEMICOLON:
			toks = append(toks, ";")
		case lit != "":
			toks = append(toks, lit)
		default:
			toks = append(toks, tok.String())
		}
	}
}

// containsTokens reports whether the token sequence snippet occurs in src,
// where "..." in snippet stands for any tokens and src's semicolons are
// skipped where snippet has none. With single, the occurrence must be an
// expression statement or a single value (an argument, the right side of
// an assignment to one variable), not one side of v, err := f(): an
// expression that returns two values does not compile where one is meant.
func containsTokens(src, snippet []string, single bool) bool {
	var at func(i, j int) bool // snippet[j:] matches src from i
	at = func(i, j int) bool {
		switch {
		case j == len(snippet):
			return true
		case snippet[j] == "...":
			for k := i; k <= len(src); k++ {
				if at(k, j+1) {
					return true
				}
			}
			return false
		case i < len(src) && src[i] == snippet[j]:
			return at(i+1, j+1)
		case i < len(src) && src[i] == ";":
			return at(i+1, j)
		}
		return false
	}
	for i := range src {
		if at(i, 0) && (!single || singleValue(src, i)) {
			return true
		}
	}
	return false
}

// singleValue reports whether the expression starting at src[i] stands
// alone: a statement, an argument, or assigned to one variable.
func singleValue(src []string, i int) bool {
	if i == 0 {
		return true
	}
	switch src[i-1] {
	case ";", "{", "(", ",", "return":
		return true
	case ":=", "=":
		return i >= 3 && src[i-3] != "," && src[i-3] != "."
	}
	return false
}

// TestReadmeTable checks the README's PyTorch→nabla table: every Go
// snippet of its nabla column appears, token for token, in readmeTable,
// which compiles and runs here, so that the table's one-liners compile
// as written.
func TestReadmeTable(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	section := readmeSection(t, string(readme), "## From PyTorch")
	src, err := os.ReadFile("readme_snippets_test.go")
	require.NoError(t, err)
	body := string(src)[strings.Index(string(src), "func readmeTable("):]
	code := goTokens(t, body, true)
	code = code[1:] // not the "func" of readmeTable itself

	rows := 0
	snippet := regexp.MustCompile("`([^`]+)`")
	for line := range strings.SplitSeq(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		require.Len(t, cells, 2, "a row of two cells: %s", line)
		rows++
		found := snippet.FindAllStringSubmatch(cells[1], -1)
		require.NotEmpty(t, found, "no Go snippet in %q", cells[1])
		for _, m := range found {
			_, err := parser.ParseExpr(m[1])
			expr := err == nil
			require.True(t, containsTokens(code, goTokens(t, m[1], false), expr),
				"README.md, From PyTorch: %s is not in readmeTable (readme_snippets_test.go) as written (expression: %v), which checks that it compiles", m[1], expr)
		}
	}
	require.Greater(t, rows, 20, "the table's rows")
	readmeTable(t)
}

// The README's sample output: the command line it shows and what the
// command prints. Times and the machine vary; the numbers of a run do not
// (within rounding across CPUs).
var (
	sampleCommand = regexp.MustCompile(`(?m)^\$ (go run \./cmd/nabla) (train .*)$`)
	sampleTiming  = regexp.MustCompile(`\d+\.\ds \(\d+ samples/s\)`)
	sampleNumber  = regexp.MustCompile(`(train loss|validation accuracy|test accuracy:) (\d+\.\d+)`)
)

// sampleValue is a number of the sample output and what it is.
type sampleValue struct {
	what  string
	value float64
}

// normaliseSample blanks what varies from machine to machine (the device
// line, times, rates) and returns the numbers of the run apart.
func normaliseSample(out string) (string, []sampleValue) {
	var lines []string
	for line := range strings.SplitSeq(strings.TrimRight(out, "\n"), "\n") {
		if strings.HasPrefix(line, "device: ") {
			line = "device: <this machine>"
		}
		lines = append(lines, line)
	}
	s := sampleTiming.ReplaceAllString(strings.Join(lines, "\n"), "<time>")
	var nums []sampleValue
	for _, m := range sampleNumber.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		nums = append(nums, sampleValue{m[1], v})
	}
	return sampleNumber.ReplaceAllString(s, "$1 <number>"), nums
}

// TestReadmeSample runs the command of the README's sample output and
// requires the README to show what it prints, so that the sample cannot
// go stale (a new default, new random streams): when it fails, run
// go test ./cmd/nabla -run TestReadmeSample -update-readme and review the
// diff of README.md.
func TestReadmeSample(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	readme := string(b)
	loc := sampleCommand.FindStringSubmatchIndex(readme)
	require.NotNil(t, loc, "README.md: no sample command line ($ go run ./cmd/nabla train ...)")
	invoked, args := readme[loc[2]:loc[3]], strings.Fields(readme[loc[4]:loc[5]])
	start := loc[1] + 1 // the output, after the command line
	end := start + strings.Index(readme[start:], "```")
	want := readme[start:end]

	readmeFile, err := filepath.Abs(readmePath)
	require.NoError(t, err)
	oldSelf := self
	t.Cleanup(func() { self = oldSelf })
	self = func() string { return invoked }
	t.Chdir(t.TempDir()) // the default -out is ./out
	code, got, stderr := runCLI(args...)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", got, stderr)

	if *updateReadme {
		readme = readme[:start] + got + readme[end:]
		require.NoError(t, os.WriteFile(readmeFile, []byte(readme), 0o644))
		t.Logf("wrote the output of %s %s into README.md", invoked, strings.Join(args, " "))
		return
	}
	const regenerate = "README.md's sample output is stale: run go test ./cmd/nabla -run TestReadmeSample -update-readme"
	wantText, wantNums := normaliseSample(want)
	gotText, gotNums := normaliseSample(got)
	require.Equal(t, wantText, gotText, regenerate)
	require.Len(t, gotNums, len(wantNums))
	for i, w := range wantNums {
		// Another CPU rounds differently (other SIMD kernels: without AVX2
		// the test accuracy moves by 6 images of 1,000, 0.6%, and the
		// losses not in 4 decimals); another run (other random streams,
		// other defaults) moves the losses by far more.
		tol := 1.0
		if w.what == "train loss" {
			tol = 0.003
		}
		require.LessOrEqual(t, math.Abs(gotNums[i].value-w.value), tol, "%s\nwant %v\ngot  %v", regenerate, wantNums, gotNums)
	}
}
