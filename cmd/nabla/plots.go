package main

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The PNG figures of the nabla command, drawn with gonum.org/v1/plot.

const dpi = 96

// savePNG draws the figure onto a w×h canvas and writes it to path
// atomically (temporary file and rename).
func savePNG(path string, w, h vg.Length, drawFig func(dc draw.Canvas)) error {
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	// A white background: a transparent PNG is unreadable in dark viewers.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	drawFig(dc)
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return writeFileAtomic(path, buf.Bytes())
}

// margin is the white space around a figure, and titlePadding the space
// between a plot's title and the plot.
const (
	margin       = 12 * vg.Millimeter / 4 // 3 mm
	titlePadding = 8 * vg.Millimeter / 4  // 2 mm
)

// withMargin draws fig inside the canvas less margin on every side.
func withMargin(fig func(dc draw.Canvas)) func(dc draw.Canvas) {
	return func(dc draw.Canvas) { fig(draw.Crop(dc, margin, -margin, margin, -margin)) }
}

// integerTicks marks whole numbers only (epochs).
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	step := math.Max(1, math.Ceil((hi-lo)/10))
	var ticks []plot.Tick
	for v := math.Ceil(lo); v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
	}
	return ticks
}

// confusionGrid adapts a confusion matrix to plotter.GridXYZ: column c is
// the predicted class, row r the true class, drawn top to bottom.
type confusionGrid [][]int

func (g confusionGrid) Dims() (c, r int)   { return len(g), len(g) }
func (g confusionGrid) Z(c, r int) float64 { return float64(g[len(g)-1-r][c]) }
func (g confusionGrid) X(c int) float64    { return float64(c) }
func (g confusionGrid) Y(r int) float64    { return float64(r) }

// writeConfusionPNG writes the confusion matrix (rows: true class,
// columns: predicted class) as a heat map with the counts in the cells and
// a colour bar beside it.
func writeConfusionPNG(path, title string, m [][]int, classes []string) error {
	n := len(m)
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = titlePadding
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	hm := plotter.NewHeatMap(confusionGrid(m), bluePalette(256))
	hm.Min = 0
	if hm.Max <= 0 {
		hm.Max = 1
	}
	p.Add(hm)
	// The counts, black on light cells and white on dark ones.
	for _, dark := range []bool{false, true} {
		var labels plotter.XYLabels
		for r := range n {
			for c := range n {
				v := m[r][c]
				if (float64(v)/hm.Max > 0.55) != dark {
					continue
				}
				labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(n - 1 - r)})
				labels.Labels = append(labels.Labels, fmt.Sprint(v))
			}
		}
		if len(labels.XYs) == 0 {
			continue
		}
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign = draw.XCenter
			l.TextStyle[i].YAlign = draw.YCenter
			l.TextStyle[i].Font.Size = vg.Points(9)
			l.TextStyle[i].Color = color.Black
			if dark {
				l.TextStyle[i].Color = color.White
			}
		}
		p.Add(l)
	}
	xt := make([]plot.Tick, n)
	yt := make([]plot.Tick, n)
	for i := range n {
		xt[i] = plot.Tick{Value: float64(i), Label: classes[i]}
		yt[i] = plot.Tick{Value: float64(n - 1 - i), Label: classes[i]}
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.X.Padding, p.Y.Padding = 0, 0
	pal := hm.Palette.Colors()
	return savePNG(path, 7.6*vg.Inch, 6.5*vg.Inch, withMargin(func(dc draw.Canvas) {
		main := draw.Crop(dc, 0, -colorBarSpace, 0, 0)
		p.Draw(main)
		data := p.DataCanvas(main)
		drawColorBar(dc, main.Max.X+colorBarGap, data.Min.Y, data.Max.Y, pal, hm.Max, p.Y.Tick.Label)
	}))
}

// The colour bar beside a heat map: the gap before it, its width and
// the room it takes with its labels.
const (
	colorBarGap   = 14 * vg.Millimeter / 4
	colorBarWidth = 16 * vg.Millimeter / 4
	colorBarSpace = colorBarGap + colorBarWidth + 14*vg.Millimeter
)

// drawColorBar draws the palette pal from 0 (bottom) to max (top) as a bar
// at x from y0 to y1, with ticks and labels in style on its right.
func drawColorBar(dc draw.Canvas, x, y0, y1 vg.Length, pal []color.Color, max float64, style draw.TextStyle) {
	// Each colour from its level to the top, over the lower ones: slices
	// thinner than a pixel, each drawn alone, would let the background
	// show through their anti-aliased edges.
	h := (y1 - y0) / vg.Length(len(pal))
	for i, c := range pal {
		dc.SetColor(c)
		dc.Fill(vg.Rectangle{Min: vg.Point{X: x, Y: y0 + vg.Length(i)*h}, Max: vg.Point{X: x + colorBarWidth, Y: y1}}.Path())
	}
	outline := draw.LineStyle{Color: color.Gray{Y: 96}, Width: vg.Points(0.5)}
	dc.StrokeLines(outline, []vg.Point{{X: x, Y: y0}, {X: x + colorBarWidth, Y: y0}, {X: x + colorBarWidth, Y: y1}, {X: x, Y: y1}, {X: x, Y: y0}})
	style.XAlign, style.YAlign = draw.XLeft, draw.YCenter
	for _, t := range (plot.DefaultTicks{}).Ticks(0, max) {
		if t.Label == "" || t.Value < 0 || t.Value > max {
			continue
		}
		y := y0 + (y1-y0)*vg.Length(t.Value/max)
		dc.StrokeLine2(outline, x+colorBarWidth, y, x+colorBarWidth+vg.Points(3), y)
		dc.FillText(style, vg.Point{X: x + colorBarWidth + vg.Points(5), Y: y}, strconv.FormatFloat(t.Value, 'f', -1, 64))
	}
}

// bluePalette runs from white to a dark blue in n steps.
func bluePalette(n int) palette.Palette {
	cs := make([]color.Color, n)
	for i := range cs {
		t := float64(i) / float64(n-1)
		lerp := func(a, b float64) uint8 { return uint8(math.Round(a + (b-a)*t)) }
		cs[i] = color.RGBA{R: lerp(247, 8), G: lerp(251, 48), B: lerp(255, 107), A: 255}
	}
	return colors(cs)
}

type colors []color.Color

func (c colors) Colors() []color.Color { return c }

// histPanel is one histogram of a grid.
type histPanel struct {
	title  string
	values []float64
	// xmin and xmax fix the x axis when xmax > xmin, so that panels can
	// be compared at a glance.
	xmin, xmax float64
}

// writeHistGrid writes a grid of histograms (rows × columns of panels,
// any of which may be nil) under a title, with a label for each row.
func writeHistGrid(path, title string, rowLabels []string, panels [][]*histPanel) error {
	rows := len(panels)
	cols := 0
	for _, r := range panels {
		cols = max(cols, len(r))
	}
	plots := make([][]*plot.Plot, rows)
	for i, row := range panels {
		plots[i] = make([]*plot.Plot, cols)
		for j, hp := range row {
			if hp == nil {
				continue
			}
			p := plot.New()
			p.Title.Text = hp.title
			p.Title.TextStyle.Font.Size = vg.Points(9)
			p.Title.Padding = vg.Points(4)
			p.X.Tick.Label.Font.Size = vg.Points(7)
			p.Y.Tick.Label.Font.Size = vg.Points(7)
			p.X.Tick.Marker = plot.TickerFunc(shortTicks)
			p.Y.Tick.Marker = plot.TickerFunc(shortTicks)
			if j == 0 {
				p.Y.Label.Text = rowLabels[i]
				p.Y.Label.TextStyle.Font.Size = vg.Points(11)
				p.Y.Label.TextStyle.Font.Weight = xfont.WeightBold
			}
			h, err := plotter.NewHist(plotter.Values(finite(hp.values)), 30)
			if err != nil {
				return fmt.Errorf("%s: %w", hp.title, err)
			}
			h.FillColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
			h.LineStyle.Width = 0
			p.Add(h)
			if hp.xmax > hp.xmin {
				p.X.Min, p.X.Max = hp.xmin, hp.xmax
			}
			plots[i][j] = p
		}
	}
	w := vg.Length(cols) * 2.6 * vg.Inch
	h := vg.Length(rows)*2*vg.Inch + 0.5*vg.Inch
	return savePNG(path, w, h, withMargin(func(dc draw.Canvas) {
		// The title across the top.
		ts := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(14)), XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
		dc.FillText(ts, vg.Point{X: dc.Center().X, Y: dc.Max.Y}, title)
		body := draw.Crop(dc, 0, 0, 0, -0.45*vg.Inch)
		tiles := draw.Tiles{
			Rows: rows, Cols: cols,
			PadX: vg.Points(10), PadY: vg.Points(10),
			PadLeft: vg.Points(6), PadRight: vg.Points(10), PadBottom: vg.Points(6),
		}
		canvases := plot.Align(plots, tiles, body)
		for i := range plots {
			for j, p := range plots[i] {
				if p != nil {
					p.Draw(canvases[i][j])
				}
			}
		}
	}))
}

// shortTicks are gonum's default ticks labelled in at most 4 significant
// digits ("25000", not "25000.00").
func shortTicks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		v := ticks[i].Value
		switch {
		case ticks[i].Label == "":
		case v == math.Trunc(v) && math.Abs(v) < 1e7:
			ticks[i].Label = strconv.FormatFloat(v, 'f', 0, 64)
		default:
			ticks[i].Label = strconv.FormatFloat(v, 'g', 4, 64)
		}
	}
	return ticks
}

// finite drops NaNs and infinities, which a histogram cannot bin.
func finite(vs []float64) []float64 {
	out := vs[:0:0]
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		out = append(out, 0)
	}
	return out
}
