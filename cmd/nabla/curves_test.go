package main

import (
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

// TestEpochCurvePoints runs epochCurve over made-up epochs: a point per
// step when an epoch has fewer than pointsPerEpoch batches, otherwise
// pointsPerEpoch points, the last at the epoch's end; each point's loss
// is the mean of its stretch's batch losses and its accuracy the
// fraction of its samples predicted correctly.
func TestEpochCurvePoints(t *testing.T) {
	// Logits that predict class 0 for the first row and class 1 for the
	// second; the labels make step s's batch right on s%3 of 2 rows.
	logits := autograd.Const(tensor.FromSlice([]float32{2, 0, 0, 2}, 2, 2))
	labels := [][]int64{{1, 0}, {0, 0}, {0, 1}}
	for _, batches := range []int{1, 3, 20, 45, 938} {
		c := newEpochCurve(2, batches, curveState{})
		var points []stepPoint
		lossSum := 0.0
		var losses []float64
		var rights []int
		for done := 1; done <= batches; done++ {
			y := labels[done%3]
			c.add(logits, tensor.FromSlice(y))
			loss := float64(done % 7)
			lossSum += loss
			losses = append(losses, loss)
			rights = append(rights, done%3) // correct predictions of the step
			if c.due(done) {
				points = append(points, c.cut(done, lossSum))
			}
		}
		require.Len(t, points, min(batches, pointsPerEpoch), "batches %d", batches)
		require.Equal(t, 3.0, points[len(points)-1].Epoch)
		from := 0
		for _, p := range points {
			to := int(math.Round((p.Epoch - 2) * float64(batches)))
			sum, right := 0.0, 0
			for i := from; i < to; i++ {
				sum += losses[i]
				right += rights[i]
			}
			require.InDelta(t, sum/float64(to-from), float64(p.Loss), 1e-12, "batches %d, stretch to %d", batches, to)
			require.InDelta(t, float64(right)/float64(2*(to-from)), p.Accuracy, 1e-12)
			from = to
		}
		total := 0
		for _, r := range rights {
			total += r
		}
		require.InDelta(t, float64(total)/float64(2*batches), c.accuracy(), 1e-12)
	}
}

// TestEpochCurveResumes: an epoch cut in two with the state a checkpoint
// keeps draws the same points as the epoch in one go.
func TestEpochCurveResumes(t *testing.T) {
	logits := autograd.Const(tensor.FromSlice([]float32{2, 0, 0, 2, 1, 3}, 3, 2))
	y := tensor.FromSlice([]int64{0, 0, 1})
	run := func(c *epochCurve, from, to int, lossSum float64) ([]stepPoint, float64) {
		var out []stepPoint
		for done := from + 1; done <= to; done++ {
			c.add(logits, y)
			lossSum += 0.5 + float64(done%4)
			if c.due(done) {
				out = append(out, c.cut(done, lossSum))
			}
		}
		return out, lossSum
	}
	straight, _ := run(newEpochCurve(0, 50, curveState{}), 0, 50, 0)
	first := newEpochCurve(0, 50, curveState{})
	a, sum := run(first, 0, 17, 0)
	raw, err := json.Marshal(first.state())
	require.NoError(t, err)
	var st curveState
	require.NoError(t, json.Unmarshal(raw, &st))
	b, _ := run(newEpochCurve(0, 50, st), 17, 50, sum)
	require.Equal(t, straight, append(a, b...))
}

func TestJSONFloat(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		b, err := json.Marshal(stepPoint{Epoch: 1, Loss: jsonFloat(v)})
		require.NoError(t, err)
		require.JSONEq(t, `{"epoch": 1, "train_loss": null, "train_accuracy": 0}`, string(b))
		var p stepPoint
		require.NoError(t, json.Unmarshal(b, &p))
		require.True(t, math.IsNaN(float64(p.Loss)))
	}
	b, err := json.Marshal(jsonFloat(0.25))
	require.NoError(t, err)
	require.Equal(t, "0.25", string(b))
}

// TestWriteCurvePlot draws a plot whose series include NaN and infinite
// points and an empty series.
func TestWriteCurvePlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curve.png")
	require.NoError(t, writeCurvePlot(path, "title", "loss", false, []curveSeries{
		{name: "within", points: []xy{{0.5, 2}, {1, math.NaN()}, {1.5, 1}, {2, math.Inf(1)}}, thin: true, color: trainColor},
		{name: "epochs", points: []xy{{1, 1.5}, {2, 0.9}}, color: trainColor},
		{name: "empty", color: valColor},
	}))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Equal(t, 672, img.Bounds().Dx())
}
