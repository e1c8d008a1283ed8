package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/data"
)

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	return img
}

func rgb(img image.Image, x, y int) (r, g, b uint8) {
	R, G, B, _ := img.At(x, y).RGBA()
	return uint8(R >> 8), uint8(G >> 8), uint8(B >> 8)
}

func white(img image.Image, x, y int) bool {
	r, g, b := rgb(img, x, y)
	return r >= 250 && g >= 250 && b >= 250
}

// requireMargins checks that a band of px pixels along every edge is
// white: no title, label or cell touches the border.
func requireMargins(t *testing.T, img image.Image, px int) {
	t.Helper()
	bo := img.Bounds()
	for y := bo.Min.Y; y < bo.Max.Y; y++ {
		for x := bo.Min.X; x < bo.Max.X; x++ {
			if x >= bo.Min.X+px && x < bo.Max.X-px && y >= bo.Min.Y+px && y < bo.Max.Y-px {
				continue
			}
			require.True(t, white(img, x, y), "pixel (%d, %d) of the %v-pixel margin is not white", x, y, px)
		}
	}
}

// colorBar looks in the right fifth of img for a column that runs, top to
// bottom, from a dark blue to white through lighter and lighter blues for
// at least min pixels, and returns its length.
func colorBar(img image.Image, min int) int {
	bo := img.Bounds()
	best := 0
	for x := bo.Max.X - bo.Dx()/5; x < bo.Max.X; x++ {
		run, last := 0, -1
		var first uint8
		for y := bo.Min.Y; y < bo.Max.Y; y++ {
			r, _, b := rgb(img, x, y)
			blue := b >= r && !(r >= 250 && b >= 250)
			if blue && int(r)+2 >= last { // lighter going down (allowing rounding)
				if run == 0 {
					first = r
				}
				run++
				last = int(r)
				if run >= min && first < 60 && r > 200 {
					best = max(best, run)
				}
				continue
			}
			run, last = 0, -1
			if blue {
				run, last, first = 1, int(r), r
			}
		}
	}
	return best
}

// TestPlotMargins: the curves, the histogram grids and the confusion
// matrix have white margins (the titles and the matrix's last column used
// to touch the border), and the heat map has a colour bar.
func TestPlotMargins(t *testing.T) {
	dir := t.TempDir()
	curve := filepath.Join(dir, "loss.png")
	require.NoError(t, writeCurvePlot(curve, "nabla train -model mlp -optimizer adam: loss", "mean cross-entropy loss", false,
		[]curveSeries{{name: "training", points: []xy{{1, 1.4}, {2, 0.85}, {3, 0.7}}, color: color.Black}}))
	img := readPNG(t, curve)
	requireMargins(t, img, 8)
	require.Zero(t, colorBar(img, 100), "no colour bar on a curve")

	grid := filepath.Join(dir, "init-stats.png")
	wide := &histPanel{title: "std 0.01, layer 5: mean 9.442e-07, std 1.579e-06", values: []float64{1, 2, 2, 3, 3, 3}}
	require.NoError(t, writeHistGrid(grid, "Activations by initialisation (rows) and layer (columns)", []string{"std 1", "He"},
		[][]*histPanel{{wide, wide}, {wide, wide}}))
	requireMargins(t, readPNG(t, grid), 8)

	cm := make([][]int, 10)
	for i := range cm {
		cm[i] = make([]int, 10)
		cm[i][i] = 90 + i
		cm[i][(i+1)%10] = 10 - i
	}
	confusion := filepath.Join(dir, "confusion.png")
	require.NoError(t, writeConfusionPNG(confusion, "mlp on the held-out tenth of the embedded test split: accuracy 94.50%", cm, data.FashionMNISTClasses[:]))
	img = readPNG(t, confusion)
	requireMargins(t, img, 8)
	require.Greater(t, colorBar(img, 100), img.Bounds().Dy()/2, "a colour bar from the darkest blue to white beside the heat map")
}
