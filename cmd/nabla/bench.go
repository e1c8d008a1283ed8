package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	_ "embed"

	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/tensor"
)

// workload is one benchmark of the suite. setup builds the inputs on dev
// and returns the timed function; work is the amount of work per call in
// the unit's numerator (flops for GFLOP/s, bytes for GB/s).
type workload struct {
	name  string
	unit  string
	work  float64
	setup func(dev device.Device) func()
}

func benchSuite(quick bool) []workload {
	sizes := []int{256, 512, 1024, 2048}
	elems := 16 << 20
	if quick {
		sizes = []int{128, 256}
		elems = 1 << 20
	}
	var ws []workload
	for _, n := range sizes {
		ws = append(ws, workload{
			name: fmt.Sprintf("matmul_%d", n), unit: "GFLOP/s", work: 2 * float64(n*n*n),
			setup: func(dev device.Device) func() {
				a, b := tensor.On(dev).Randn(n, n), tensor.On(dev).Randn(n, n)
				return func() { a.MatMul(b) }
			},
		})
	}
	elementwise := []struct {
		name  string
		bytes int
		f     func(x, y *tensor.Tensor)
	}{
		{"add", 12, func(x, y *tensor.Tensor) { x.Add(y) }},
		{"exp", 8, func(x, _ *tensor.Tensor) { x.Exp() }},
		{"sum", 4, func(x, _ *tensor.Tensor) { x.Sum() }},
	}
	for _, e := range elementwise {
		ws = append(ws, workload{
			name: fmt.Sprintf("%s_%dM", e.name, elems>>20), unit: "GB/s", work: float64(e.bytes * elems),
			setup: func(dev device.Device) func() {
				x, y := tensor.On(dev).Randn(elems), tensor.On(dev).Randn(elems)
				return func() { e.f(x, y) }
			},
		})
	}
	rows := 4096
	if quick {
		rows = 256
	}
	ws = append(ws, workload{
		name: fmt.Sprintf("softmax_%dx1024", rows), unit: "GB/s", work: float64(8 * rows * 1024),
		setup: func(dev device.Device) func() {
			x := tensor.On(dev).Randn(rows, 1024)
			return func() { x.Softmax(1) }
		},
	})
	return ws
}

// timeIt runs f once to warm up, then repeatedly for at least minTime and
// three runs, and returns the median time of one call. sync waits for the
// device so that asynchronous backends are timed honestly.
func timeIt(f func(), sync func(), minTime time.Duration) time.Duration {
	f()
	sync()
	var runs []time.Duration
	start := time.Now()
	for len(runs) < 3 || time.Since(start) < minTime {
		t0 := time.Now()
		f()
		sync()
		runs = append(runs, time.Since(t0))
		if len(runs) >= 100 {
			break
		}
	}
	slices.Sort(runs)
	return runs[len(runs)/2]
}

//go:embed torch_bench.py
var torchBenchScript string

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "bench [-device auto|cpu|cuda[:N]] [-quick] [-torch=false] [-mlp=false]", stderr)
	devName := fs.String("device", "auto", "device to benchmark: auto, cpu, cuda or cuda:N")
	quick := fs.Bool("quick", false, "small sizes, for a fast smoke run (the MLP epoch on 2,048 embedded images)")
	withTorch := fs.Bool("torch", true, "also run the suite in PyTorch (python3 with torch) and print the ratio")
	minTime := fs.Duration("mintime", time.Second, "minimum time spent timing each workload")
	withMLP := fs.Bool("mlp", true, "also time one MLP training epoch (784-256-128-10, Adam 1e-3, batch 64) on Fashion-MNIST")
	dataDir := fs.String("data", "", "Fashion-MNIST directory for the MLP epoch, or \"embedded\" (default: as nabla train chooses)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dev, err := device.Parse(*devName)
	if err != nil {
		return usagef("-device %q: %v", *devName, err)
	}
	be, err := device.Get(dev)
	if err != nil {
		return err
	}
	suite := benchSuite(*quick)

	var mlp *mlpBench
	if *withMLP {
		if mlp, err = newMLPBench(*dataDir, *quick); err != nil {
			return err
		}
		defer mlp.cleanup()
	}

	var torch map[string]float64
	var torchMLP float64
	var torchNote string
	if *withTorch {
		torch, torchMLP, torchNote = runTorchBench(suite, mlp, dev, *minTime)
	}

	info, _ := device.Describe(dev)
	fmt.Fprintf(stdout, "nabla bench on %v\n", info)
	if torchNote != "" {
		fmt.Fprintln(stdout, torchNote)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tnabla ms\trate\tpytorch ms\trate\tnabla/pytorch speed\t")
	sync := func() { _ = be.Synchronize() }
	for _, w := range suite {
		d := timeIt(w.setup(dev), sync, *minTime)
		ms := d.Seconds() * 1e3
		rate := w.work / d.Seconds() / 1e9
		line := fmt.Sprintf("%s\t%.3f\t%.1f %s\t", w.name, ms, rate, w.unit)
		if ts, ok := torch[w.name]; ok && ts > 0 {
			line += fmt.Sprintf("%.3f\t%.1f %s\t%.2fx\t", ts*1e3, w.work/ts/1e9, w.unit, ts/d.Seconds())
		} else {
			line += "-\t-\t-\t"
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if mlp != nil {
		secs, err := mlp.run(dev, sync)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nMLP training epoch (784-256-128-10, Adam 1e-3, batch 64) on %s:\n", mlp.describe())
		fmt.Fprintf(stdout, "  nabla    %7.3f s/epoch  (%.0f samples/s)\n", secs, float64(mlp.n)/secs)
		if torchMLP > 0 {
			fmt.Fprintf(stdout, "  PyTorch  %7.3f s/epoch  (%.0f samples/s)  nabla/pytorch speed %.2fx\n", torchMLP, float64(mlp.n)/torchMLP, torchMLP/secs)
		}
	}
	return nil
}

// runTorchBench times the suite (and the MLP epoch when mlp is not nil) in
// PyTorch, returning seconds per call by workload name and seconds per
// MLP epoch, or a note saying why it could not.
func runTorchBench(suite []workload, mlp *mlpBench, dev device.Device, minTime time.Duration) (map[string]float64, float64, string) {
	python := findTorchPython()
	if python == "" {
		return nil, 0, "(PyTorch comparison skipped: no python3 with torch found; set NABLA_PYTHON or install python3-torch)"
	}
	names := make([]string, len(suite))
	for i, w := range suite {
		names[i] = w.name
	}
	request := map[string]any{"workloads": names, "device": torchDevice(dev), "threads": threadsForTorch(), "min_time": minTime.Seconds()}
	if mlp != nil {
		request["mlp"] = map[string]any{"images": mlp.images, "labels": mlp.labels, "n": mlp.n, "batch": 64, "lr": 1e-3}
	}
	req, _ := json.Marshal(request)
	cmd := exec.Command(python, "-c", torchBenchScript)
	cmd.Stdin = strings.NewReader(string(req))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return nil, 0, fmt.Sprintf("(PyTorch comparison failed: %v: %s)", err, msg)
	}
	var res struct {
		Version    string             `json:"version"`
		Threads    int                `json:"threads"`
		Seconds    map[string]float64 `json:"seconds"`
		MLPSeconds float64            `json:"mlp_epoch_seconds"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, 0, fmt.Sprintf("(PyTorch comparison: bad output: %v)", err)
	}
	return res.Seconds, res.MLPSeconds, fmt.Sprintf("PyTorch %s (%s, %d threads) timed in the same run", res.Version, python, res.Threads)
}

func torchDevice(dev device.Device) string {
	if dev.IsCPU() {
		return "cpu"
	}
	return dev.String()
}

func threadsForTorch() int { return max(1, runtimeThreads()) }

// findTorchPython returns a python3 that can import torch: $NABLA_PYTHON,
// then python3 on PATH, then the system /usr/bin/python3.
func findTorchPython() string {
	var cands []string
	if p := os.Getenv("NABLA_PYTHON"); p != "" {
		cands = append(cands, p)
	}
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	cands = append(cands, "/usr/bin/python3")
	for _, p := range cands {
		if exec.Command(p, "-c", "import torch").Run() == nil {
			return p
		}
	}
	return ""
}
