package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/models"
	"github.com/nabla-go/nabla/nn"
)

func runEval(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("eval", "eval [-out DIR | -model-file FILE] [-device auto|cpu|cuda[:N]] [-data DIR] [flags]", stderr)
	out := flags.String("out", "out", "directory of a run of nabla train: its "+modelFile+" and "+runFile+" are evaluated")
	modelPath := flags.String("model-file", "", "a safetensors file of weights to evaluate instead (its architecture from the "+runFile+" beside it, or -model)")
	modelName := flags.String("model", "", "architecture of -model-file when no "+runFile+" is beside it: mlp or cnn")
	devName := flags.String("device", "auto", "device to evaluate on: auto, cpu, cuda or cuda:N")
	dataDir := flags.String("data", "", "directory holding the Fashion-MNIST IDX files, or \"embedded\" (default: the data set the model was trained on)")
	batch := flags.Int("batch", 1000, "evaluation batch size")
	pngPath := flags.String("png", "", "where to write the confusion-matrix heat map (default: "+confusionPNG+" beside the model)")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	set := flagsSet(flags)
	if *modelName != "" {
		if err := checkChoice("model", "model", *modelName, modelNames); err != nil {
			return err
		}
	}
	if err := positiveInt("batch", *batch, "batch size"); err != nil {
		return err
	}
	dev, err := parseDevice(*devName)
	if err != nil {
		return err
	}
	if set["out"] && set["model-file"] {
		return usagef("-out %q and -model-file %q: give one of them", *out, *modelPath)
	}

	// The weights, and the run that produced them.
	weights := filepath.Join(*out, modelFile)
	if *modelPath != "" {
		weights = *modelPath
	}
	dir := filepath.Dir(weights)
	rec, err := readRunRecord(dir)
	if *modelPath == "" {
		if _, statErr := os.Stat(weights); errors.Is(statErr, fs.ErrNotExist) {
			return noModel(*out, rec)
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		rec = nil
	default:
		return err
	}
	arch := *modelName
	switch {
	case arch == "" && rec != nil:
		arch = rec.Config.Model
	case arch == "":
		return usagef("%s: no %s beside it to say the architecture; give -model mlp or -model cnn", weights, runFile)
	case rec != nil && arch != rec.Config.Model:
		return usagef("-model %q: %s says the model is %q", arch, filepath.Join(dir, runFile), rec.Config.Model)
	}
	png := *pngPath
	if png == "" {
		png = filepath.Join(dir, confusionPNG)
	}
	// Before the work: can the heat map be written?
	if err := checkWritable(filepath.Dir(png)); err != nil {
		if *pngPath == "" {
			return fmt.Errorf("%s: %v, and the confusion matrix is written there: give -png FILE to write it elsewhere", dir, err)
		}
		return usagef("-png %s: %s: %v", png, filepath.Dir(png), err)
	}
	model, err := loadModel(weights, arch, rec, dev)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if rec != nil && rec.Status != statusDone && *modelPath == "" {
				return fmt.Errorf("%s not found: the run in %s is %s, and writes its weights when it finishes (resume it with %s train -resume -out %s)",
					weights, dir, rec.Status, self(), dir)
			}
			return fmt.Errorf("%s not found: name an existing safetensors file with -model-file, or train a model first (%s train -out %s)", weights, self(), dir)
		}
		return err
	}

	// The test set: -data, else the data set the model was trained on.
	var src dataSource
	switch {
	case *dataDir != "" || rec == nil:
		if src, err = resolveData(*dataDir); err != nil {
			return err
		}
	default:
		src = rec.Config.Data
		if !src.embedded() {
			if err := checkDir(src.Dir); err != nil {
				return fmt.Errorf("the model was trained on %s, which is not there now (%v); name the data with -data", src, err)
			}
		}
	}
	test, err := loadTestSet(src)
	if err != nil {
		return err
	}
	loader, err := data.NewLoader(test, data.BatchSize(*batch), data.ToDevice(dev))
	if err != nil {
		return err
	}
	info, err := device.Describe(dev)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model: %s from %s\n", arch, weights)
	if rec != nil && rec.Status == statusDiverged && rec.Diverged != nil {
		fmt.Fprintf(stdout, "note: the run diverged (%v); this is its model of epoch %d, the last with a finite loss\n", rec.Diverged, len(rec.History))
	}
	fmt.Fprintf(stdout, "test set: %s, %d images\n", testSetName(src), test.Len())
	fmt.Fprintf(stdout, "device: %v\n", info)

	pred, labels, err := models.Predict(model, loader)
	if err != nil {
		return err
	}
	classes := data.FashionMNISTClasses[:]
	cm := confusionMatrix(pred, labels, len(classes))
	correct := 0
	for i := range classes {
		correct += cm[i][i]
	}
	fmt.Fprintf(stdout, "\naccuracy: %.2f%% (%d of %d)\n\n", 100*float64(correct)/float64(len(labels)), correct, len(labels))
	printPerClass(stdout, cm, classes)
	fmt.Fprintln(stdout)
	printConfusion(stdout, cm, classes)

	title := fmt.Sprintf("%s on %s: accuracy %.2f%%", arch, testSetName(src), 100*float64(correct)/float64(len(labels)))
	if err := writeConfusionPNG(png, title, cm, classes); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", png)
	return nil
}

// noModel is the error of eval -out dir when dir holds no model.safetensors:
// why (no run, an unfinished run, a diverged one) and what to do. rec is
// the run's record, or nil when it could not be read.
func noModel(dir string, rec *runRecord) error {
	if err := checkDir(dir); err != nil {
		return fmt.Errorf("-out %s: %v, so no trained model there: train one with: %s train -out %s", dir, err, self(), dir)
	}
	msg := fmt.Sprintf("%s holds no trained model (no %s)", dir, modelFile)
	switch {
	case rec == nil:
		return fmt.Errorf("%s: train one with: %s train -out %s (or evaluate a weights file with -model-file FILE -model mlp|cnn)", msg, self(), dir)
	case rec.Status == statusDiverged && rec.Diverged != nil:
		return fmt.Errorf("%s: its run diverged before an epoch finished (%v); train a new run with a smaller -lr than %g", msg, rec.Diverged, rec.Config.LR)
	default:
		return fmt.Errorf("%s yet: its run stopped after %d of %d epochs (status %q); finish it with: %s train -resume -out %s",
			msg, len(rec.History), rec.Epochs, rec.Status, self(), dir)
	}
}

// loadModel builds the architecture on dev and loads the weights into it.
// Dropout layers hold no weights but shift the layer numbers, so without
// the run's record both variants are tried.
func loadModel(weights, arch string, rec *runRecord, dev device.Device) (nn.Module, error) {
	dropouts := []float64{0, 0.5}
	if rec != nil {
		dropouts = []float64{rec.Config.Dropout}
	}
	var first error
	for _, p := range dropouts {
		model, err := models.ByName(arch, p)
		if err != nil {
			return nil, err
		}
		model = model.To(dev)
		err = nn.Load(weights, model)
		if err == nil {
			model.Eval()
			return model, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// testSetName names the test part of src.
func testSetName(src dataSource) string {
	if src.embedded() {
		return "the held-out tenth of the embedded test split"
	}
	return "the Fashion-MNIST test split from " + src.Dir
}

// confusionMatrix counts m[true][predicted].
func confusionMatrix(pred, labels []int64, n int) [][]int {
	m := make([][]int, n)
	for i := range m {
		m[i] = make([]int, n)
	}
	for i := range pred {
		m[labels[i]][pred[i]]++
	}
	return m
}

func printPerClass(w io.Writer, cm [][]int, classes []string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "class\taccuracy\tcorrect\timages")
	for i, name := range classes {
		total := 0
		for _, v := range cm[i] {
			total += v
		}
		acc := "-"
		if total > 0 {
			acc = fmt.Sprintf("%.1f%%", 100*float64(cm[i][i])/float64(total))
		}
		fmt.Fprintf(tw, "%d %s\t%s\t%d\t%d\n", i, name, acc, cm[i][i], total)
	}
	tw.Flush()
}

func printConfusion(w io.Writer, cm [][]int, classes []string) {
	fmt.Fprintln(w, "confusion matrix (rows: true class, columns: predicted class):")
	nameW, cellW := 0, 4
	for i, name := range classes {
		nameW = max(nameW, len(fmt.Sprintf("%d %s", i, name)))
		for _, v := range cm[i] {
			cellW = max(cellW, len(fmt.Sprint(v))+1)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%*s", nameW, "")
	for i := range classes {
		fmt.Fprintf(&b, "%*d", cellW, i)
	}
	fmt.Fprintln(w, b.String())
	for i, name := range classes {
		b.Reset()
		fmt.Fprintf(&b, "%-*s", nameW, fmt.Sprintf("%d %s", i, name))
		for _, v := range cm[i] {
			fmt.Fprintf(&b, "%*d", cellW, v)
		}
		fmt.Fprintln(w, b.String())
	}
}
