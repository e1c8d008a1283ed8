package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
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

// benchMaxRuns bounds the timed calls of one workload. It used to be 100,
// which cut the small workloads (a 256×256 product takes a quarter of a
// millisecond) to a few tens of milliseconds: too short for Go's garbage
// collector to run even once, so every result buffer was fresh memory
// from the operating system and the median call paid its page faults,
// where a training loop (and PyTorch, which frees on the last reference)
// reuses memory. minTime now decides for both libraries alike.
const benchMaxRuns = 100_000

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
		if len(runs) >= benchMaxRuns {
			break
		}
	}
	slices.Sort(runs)
	return runs[len(runs)/2]
}

//go:embed torch_bench.py
var torchBenchScript string

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "bench [-device auto|cpu|cuda[:N]] [-quick] [-torch=false] [-train mlp,cnn|none] [-batch 64,512] [-data DIR|embedded]", stderr)
	devName := fs.String("device", "auto", "device to benchmark: auto, cpu, cuda or cuda:N")
	quick := fs.Bool("quick", false, "small sizes, for a fast smoke run (training epochs on 2,048 embedded images)")
	withTorch := fs.Bool("torch", true, "also run the suite in PyTorch (python3 with torch) and print the ratio")
	minTime := fs.Duration("mintime", time.Second, "minimum time spent timing each workload")
	trainFlag := fs.String("train", "mlp", "models to time one training epoch of (Adam 1e-3) on Fashion-MNIST, comma-separated: mlp (784-256-128-10), cnn (two conv blocks), or none")
	batchFlag := fs.String("batch", "64", "batch sizes of the training epochs, comma-separated (every model is timed at each)")
	dataDir := fs.String("data", "", "Fashion-MNIST directory for the training epochs, or \"embedded\" (default: as nabla train chooses)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dev, err := device.Parse(*devName)
	if err != nil {
		return usagef("-device %q: %v", *devName, err)
	}
	trainModels, err := parseTrainModels(*trainFlag)
	if err != nil {
		return err
	}
	batches, err := parseBatchSizes(*batchFlag)
	if err != nil {
		return err
	}
	be, err := device.Get(dev)
	if err != nil {
		return err
	}
	suite := benchSuite(*quick)

	var train *trainBench
	if len(trainModels) > 0 {
		var runs []trainRun
		for _, m := range trainModels {
			for _, b := range batches {
				runs = append(runs, trainRun{Model: m, Batch: b})
			}
		}
		if train, err = newTrainBench(*dataDir, *quick, runs); err != nil {
			return err
		}
		defer train.cleanup()
	}

	// How busy the rest of the machine is while the benchmark runs.
	started := readCPU()
	busy := func() string { return busyWarning(started, readCPU(), machineCPUs()) }

	var torch torchResults
	if *withTorch {
		torch = runTorchBench(suite, train, dev, *minTime)
	}

	info, _ := device.Describe(dev)
	fmt.Fprintf(stdout, "nabla bench on %v\n", info)
	if torch.note != "" {
		fmt.Fprintln(stdout, torch.note)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tnabla ms\trate\tpytorch ms\trate\tnabla/pytorch speed\t")
	sync := func() { _ = be.Synchronize() }
	for _, w := range suite {
		d := timeIt(w.setup(dev), sync, *minTime)
		ms := d.Seconds() * 1e3
		rate := w.work / d.Seconds() / 1e9
		line := fmt.Sprintf("%s\t%.3f\t%.1f %s\t", w.name, ms, rate, w.unit)
		if ts, ok := torch.seconds[w.name]; ok && ts > 0 {
			line += fmt.Sprintf("%.3f\t%.1f %s\t%.2fx\t", ts*1e3, w.work/ts/1e9, w.unit, ts/d.Seconds())
		} else {
			line += "-\t-\t-\t"
		}
		fmt.Fprintln(tw, line)
	}
	if w := busy(); w != "" {
		fmt.Fprintln(stdout, w)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if train == nil {
		return nil
	}
	ours := make([]trainResult, len(train.runs))
	for i, r := range train.runs {
		if ours[i], err = train.run(dev, be, r); err != nil {
			return fmt.Errorf("training epoch of %s at batch %d: %w", r.Model, r.Batch, err)
		}
	}
	fmt.Fprintf(stdout, "\n%s\n", trainLegend(train))
	if w := busy(); w != "" {
		fmt.Fprintln(stdout, w)
	}
	if torch.trainNote != "" {
		fmt.Fprintln(stdout, torch.trainNote)
	}
	return writeTrainTable(stdout, train.runs, train.n, ours, torch.train)
}

// torchResults is what the PyTorch script measured: seconds per call by
// workload name, the training epochs by run, and notes for the output
// (why PyTorch did not run, or what it is).
type torchResults struct {
	seconds   map[string]float64
	train     map[trainRun]trainResult
	note      string
	trainNote string
}

// torchTrainResult is one training run in the script's output; the peaks
// are null on devices without allocator statistics.
type torchTrainResult struct {
	trainRun
	Seconds       float64 `json:"seconds"`
	Steps         int     `json:"steps"`
	PeakAllocated *int64  `json:"peak_allocated"`
	PeakReserved  *int64  `json:"peak_reserved"`
}

// runTorchBench times the suite (and the training runs when train is not
// nil) in PyTorch, or says in the note why it could not.
func runTorchBench(suite []workload, train *trainBench, dev device.Device, minTime time.Duration) torchResults {
	python := findTorchPython()
	if python == "" {
		return torchResults{note: "(PyTorch comparison skipped: no python3 with torch found; set NABLA_PYTHON or install python3-torch)"}
	}
	names := make([]string, len(suite))
	for i, w := range suite {
		names[i] = w.name
	}
	request := map[string]any{"workloads": names, "device": torchDevice(dev), "threads": threadsForTorch(), "min_time": minTime.Seconds()}
	if train != nil {
		runs := make([]map[string]any, len(train.runs))
		for i, r := range train.runs {
			runs[i] = map[string]any{"model": r.Model, "batch": r.Batch, "warmup": train.n}
		}
		request["train"] = map[string]any{"images": train.images, "labels": train.labels, "n": train.n, "lr": trainLR, "runs": runs}
	}
	req, _ := json.Marshal(request)
	env, blasNote := openblasSetup(python)
	cmd := exec.Command(python, "-c", torchBenchScript)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(string(req))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return torchResults{note: fmt.Sprintf("(PyTorch comparison failed: %v: %s)", err, msg)}
	}
	var res struct {
		Version   string             `json:"version"`
		Threads   int                `json:"threads"`
		Seconds   map[string]float64 `json:"seconds"`
		Train     []torchTrainResult `json:"train"`
		TrainNote string             `json:"train_note"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return torchResults{note: fmt.Sprintf("(PyTorch comparison: bad output: %v)", err)}
	}
	r := torchResults{
		seconds:   res.Seconds,
		train:     map[trainRun]trainResult{},
		note:      fmt.Sprintf("PyTorch %s (%s, %d threads%s) timed in the same run", res.Version, python, res.Threads, prefixed(", ", blasNote)),
		trainNote: res.TrainNote,
	}
	for _, t := range res.Train {
		tr := trainResult{Seconds: t.Seconds, Steps: t.Steps}
		if t.PeakAllocated != nil && t.PeakReserved != nil {
			tr.PeakAllocated, tr.PeakReserved, tr.HasMemory = *t.PeakAllocated, *t.PeakReserved, true
		}
		r.train[t.trainRun] = tr
	}
	return r
}

func torchDevice(dev device.Device) string {
	if dev.IsCPU() {
		return "cpu"
	}
	return dev.String()
}

func threadsForTorch() int { return max(1, runtimeThreads()) }

// findTorchPython returns a python3 that can import torch: $NABLA_PYTHON,
// then python3 on PATH, then the system /usr/bin/python3. The answer is
// kept for the life of the process, since each try imports torch (seconds).
var findTorchPython = sync.OnceValue(func() string {
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
})

// prefixed returns sep+s, or "" for an empty s.
func prefixed(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}
