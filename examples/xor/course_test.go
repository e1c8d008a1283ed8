package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/pytest"
)

// TestCourseTable reruns course.py where PyTorch is installed (it skips
// elsewhere) and checks that course.go holds what it prints.
func TestCourseTable(t *testing.T) {
	out := pytest.RunFile(t, "course.py")
	var losses []float64
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == strconv.Itoa(len(losses)*courseEvery):
			v, err := strconv.ParseFloat(f[1], 64)
			require.NoError(t, err, line)
			losses = append(losses, v)
		case len(f) > 0 && f[0] == "hypothesis":
			require.Equal(t, fmt.Sprint(courseHypothesis), strings.ReplaceAll(strings.TrimPrefix(line, "hypothesis "), ",", ""), line)
		}
	}
	require.Equal(t, courseLoss, losses)
	// The four the course's text quotes.
	require.Equal(t, []float64{0.6948983669281006, 0.693155825138092, 0.6931380033493042, 0.6929103136062622},
		[]float64{courseLoss[0], courseLoss[1], courseLoss[10], courseLoss[40]})
}
