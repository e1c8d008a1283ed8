package main

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Colours of the curves: training blue, validation orange (matplotlib's
// first two).
var (
	trainColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	valColor   = color.RGBA{R: 255, G: 127, B: 14, A: 255}
)

// xy is one point of a curve.
type xy struct{ x, y float64 }

// curveSeries is one line of a curve plot: a thin line without markers
// for the many points within epochs, a line with a marker at each point
// for the per-epoch values.
type curveSeries struct {
	name   string
	points []xy
	thin   bool
	color  color.Color
}

// writeCurvePlot draws the series against epochs (the x axis runs from 0
// to the last epoch, with whole-epoch ticks) with a legend in the top
// right corner (bottom right with legendLow, for curves that rise), and
// writes the PNG to path. Points that are not finite (a diverged loss)
// are left out; empty series are skipped.
func writeCurvePlot(path, title, ylabel string, legendLow bool, series []curveSeries) error {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = titlePadding
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.X.Tick.Marker = integerTicks{}
	p.Add(plotter.NewGrid())
	p.Legend.Top = !legendLow
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(6)
	xmax := 1.0
	for _, s := range series {
		var pts plotter.XYs
		for _, q := range s.points {
			if !math.IsNaN(q.y) && !math.IsInf(q.y, 0) {
				pts = append(pts, plotter.XY{X: q.x, Y: q.y})
				xmax = max(xmax, q.x)
			}
		}
		if len(pts) == 0 {
			continue
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		line.Color = s.color
		line.Width = vg.Points(2)
		if s.thin {
			line.Width = vg.Points(0.8)
			line.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
			p.Add(line)
			p.Legend.Add(s.name, line)
			continue
		}
		marks, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		marks.Color = s.color
		marks.Shape = draw.CircleGlyph{}
		marks.Radius = vg.Points(3)
		p.Add(line, marks)
		p.Legend.Add(s.name, line, marks)
	}
	p.X.Min, p.X.Max = 0, xmax
	return savePNG(path, 7*vg.Inch, 4.5*vg.Inch, withMargin(p.Draw))
}
