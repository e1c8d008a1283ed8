package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// initScheme is one way to initialise the weights of the experiment.
type initScheme struct {
	name string
	init func(w *autograd.Var)
}

// initSchemes are the initialisations the experiment compares: a normal
// distribution of standard deviation 1 and 0.01, Xavier (Glorot) and He
// (Kaiming), the last two normal, scaled by the fan-in and fan-out.
var initSchemes = []initScheme{
	{"std 1", func(w *autograd.Var) { nn.InitNormal(w, 0, 1) }},
	{"std 0.01", func(w *autograd.Var) { nn.InitNormal(w, 0, 0.01) }},
	{"Xavier", func(w *autograd.Var) { nn.XavierNormal(w, 1) }},
	{"He", func(w *autograd.Var) { nn.KaimingNormal(w, 0, nn.FanIn) }},
}

// layerStats are the activations of one layer under one scheme.
type layerStats struct {
	mean, std float64
	values    []float64
}

// initExperiment feeds x through layers Linear(units, units) without
// bias, each followed by act, initialised by scheme, and returns the
// activations of every layer.
func initExperiment(x *tensor.Tensor, layers, units int, act string, scheme initScheme) []layerStats {
	h := autograd.Const(x)
	out := make([]layerStats, layers)
	autograd.NoGrad(func() {
		for l := range layers {
			lin := nn.Linear(units, units, nn.NoBias()).To(x.Device()).(*nn.LinearModule)
			scheme.init(lin.Weight)
			h = lin.Forward(h)
			if act == "sigmoid" {
				h = h.Sigmoid()
			} else {
				h = h.Relu()
			}
			a := h.Detach()
			vals := a.CPU().As(tensor.Float64).Float64s()
			out[l] = layerStats{mean: a.Mean().Item(), std: a.Std().Item(), values: vals}
		}
	})
	return out
}

func runInitStats(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("init-stats", "init-stats [-activation sigmoid|relu|both] [-out DIR] [flags]", stderr)
	activation := flags.String("activation", "both", "activation after each layer: sigmoid, relu or both")
	layers := flags.Int("layers", 5, "number of layers")
	units := flags.Int("units", 100, "units per layer (and the input dimension)")
	samples := flags.Int("samples", 1000, "number of random standard-normal inputs")
	seed := flags.Uint64("seed", 1, "random seed")
	out := flags.String("out", "out", "directory for the histogram grids init-stats-<activation>.png")
	devName := flags.String("device", "auto", "device to compute on: auto, cpu, cuda or cuda:N")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if err := checkChoice("activation", "activation", *activation, activationList); err != nil {
		return err
	}
	for _, c := range []struct {
		name string
		v    int
		what string
	}{{"layers", *layers, "number of layers"}, {"units", *units, "number of units"}, {"samples", *samples, "number of samples"}} {
		if err := positiveInt(c.name, c.v, c.what); err != nil {
			return err
		}
	}
	dev, err := parseDevice(*devName)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	acts := []string{*activation}
	if *activation == "both" {
		acts = []string{"sigmoid", "relu"}
	}
	for k, act := range acts {
		if k > 0 {
			fmt.Fprintln(stdout)
		}
		tensor.ManualSeed(*seed)
		x := tensor.On(dev).Randn(*samples, *units)
		fmt.Fprintf(stdout, "%s: %d layers of %d units without bias, %d inputs drawn from N(0, 1); activation mean and std per layer\n",
			act, *layers, *units, *samples)
		rowLabels := make([]string, len(initSchemes))
		panels := make([][]*histPanel, len(initSchemes))
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		var head strings.Builder
		// Names padded to one width, so that the right-aligned table
		// shows them aligned left.
		head.WriteString(fmt.Sprintf("%-8s\t", "init"))
		for l := range *layers {
			fmt.Fprintf(&head, "layer %d mean\tstd\t", l+1)
		}
		fmt.Fprintln(tw, head.String())
		for i, sc := range initSchemes {
			stats := initExperiment(x, *layers, *units, act, sc)
			rowLabels[i] = sc.name
			var row strings.Builder
			row.WriteString(fmt.Sprintf("%-8s\t", sc.name))
			// One x axis per row: [0, 1] for the sigmoid, [0, the row's
			// largest value] for ReLU, so that activations that shrink
			// or blow up from layer to layer show as such.
			xmax := 1.0
			if act == "relu" {
				xmax = 0
				for _, st := range stats {
					for _, v := range st.values {
						xmax = max(xmax, v)
					}
				}
			}
			for l, st := range stats {
				fmt.Fprintf(&row, "%s\t%s\t", num(st.mean), num(st.std))
				vals := st.values
				if act == "relu" {
					vals = positive(vals)
				}
				panels[i] = append(panels[i], &histPanel{
					title:  fmt.Sprintf("%s, layer %d: mean %s, std %s", sc.name, l+1, num(st.mean), num(st.std)),
					values: vals, xmin: 0, xmax: xmax,
				})
			}
			fmt.Fprintln(tw, row.String())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		path := filepath.Join(*out, "init-stats-"+act+".png")
		title := fmt.Sprintf("Activations of a %d-layer, %d-unit %s network by initialisation (rows) and layer (columns)", *layers, *units, act)
		if act == "relu" {
			title += "; histograms of the non-zero values (about half are 0)"
		}
		if err := writeHistGrid(path, title, rowLabels, panels); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	return nil
}

// positive returns the values above zero.
func positive(vs []float64) []float64 {
	var out []float64
	for _, v := range vs {
		if v > 0 {
			out = append(out, v)
		}
	}
	return out
}

// num formats a statistic in 4 significant digits, in exponent form
// when it is very small or large.
func num(v float64) string {
	a := math.Abs(v)
	if a != 0 && (a < 1e-3 || a >= 1e5) {
		return fmt.Sprintf("%.3e", v)
	}
	return fmt.Sprintf("%.4f", v)
}
