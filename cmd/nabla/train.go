package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/safetensors"
	"github.com/nabla-go/nabla/models"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
)

// The files of a run, in its -out directory.
const (
	checkpointFile = "checkpoint.safetensors"
	modelFile      = "model.safetensors"
	runFile        = "run.json"
	lossPNG        = "loss.png"
	accuracyPNG    = "accuracy.png"
	confusionPNG   = "confusion.png"
)

// Checkpoint metadata keys (besides those of optim.Checkpoint).
const (
	metaRun     = "run"      // the runConfig as JSON
	metaStep    = "step"     // batches done in the epoch in progress
	metaLossSum = "loss_sum" // their summed loss, exactly
	metaHistory = "history"  // the finished epochs' statistics as JSON
)

// defaultLR is the learning rate of each optimizer when -lr is not given.
var defaultLR = map[string]float64{
	"sgd": 0.1, "momentum": 0.01, "adagrad": 0.01, "rmsprop": 1e-3, "adam": 1e-3, "adamw": 1e-3,
}

// defaultWeightDecay is PyTorch's default: 0.01 for AdamW, 0 otherwise.
func defaultWeightDecay(opt string) float64 {
	if opt == "adamw" {
		return 0.01
	}
	return 0
}

// Test hooks.
var (
	// interruptContext returns a context that Ctrl-C (SIGINT) or SIGTERM
	// cancels, and the function that stops listening.
	interruptContext = func() (context.Context, context.CancelFunc) {
		return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	}
	// afterStep, when not nil, is called after every training step with
	// the epoch (from 1), the number of batches done in it and the model.
	afterStep func(epoch, step int, model nn.Module)
)

// runConfig is everything that defines a training run: a resumed run must
// have the same. It is saved in run.json and in every checkpoint.
type runConfig struct {
	Model       string     `json:"model"`
	Optimizer   string     `json:"optimizer"`
	Schedule    string     `json:"schedule,omitempty"` // "cosine", or "" for a constant rate
	LR          float64    `json:"lr"`
	WeightDecay float64    `json:"weight_decay"`
	Dropout     float64    `json:"dropout"`
	Batch       int        `json:"batch"`
	Seed        uint64     `json:"seed"`
	Limit       int        `json:"limit,omitempty"`
	Data        dataSource `json:"data"`
}

// epochStats are the statistics of one finished epoch.
type epochStats struct {
	Epoch         int       `json:"epoch"`
	TrainLoss     float64   `json:"train_loss"`
	TrainAccuracy float64   `json:"train_accuracy"` // over the epoch's batches, as the model trained on them
	ValLoss       jsonFloat `json:"validation_loss"`
	ValAccuracy   float64   `json:"validation_accuracy"`
	Seconds       float64   `json:"seconds"`
}

// runRecord is run.json: the run's configuration and results, which eval
// reads to rebuild the model.
type runRecord struct {
	Program      string       `json:"program"`
	Config       runConfig    `json:"config"`
	Epochs       int          `json:"epochs"`
	Device       string       `json:"device"`
	Data         string       `json:"data"`
	Sizes        splitSizes   `json:"sizes"`
	Classes      []string     `json:"classes"`
	Parameters   int          `json:"parameters"`
	Status       string       `json:"status"` // running, interrupted, diverged or done
	History      []epochStats `json:"history"`
	Steps        []stepPoint  `json:"steps,omitempty"` // the training curve within epochs (see curves.go)
	TestAccuracy *float64     `json:"test_accuracy,omitempty"`
	// Diverged says where the training loss stopped being a number; the
	// history holds the epochs before (whose model is the one kept).
	Diverged *divergence `json:"diverged,omitempty"`
}

// divergence is where a run's training loss became NaN or infinite.
type divergence struct {
	Epoch int `json:"epoch"` // from 1
	Step  int `json:"step"`  // batches done in the epoch when it was seen
	// Loss is the running mean loss of the epoch when it was seen, as
	// text ("NaN", "+Inf"): JSON has no numbers for them.
	Loss string `json:"train_loss"`
}

func (d *divergence) String() string {
	return fmt.Sprintf("training loss %s in epoch %d after %d batches", d.Loss, d.Epoch, d.Step)
}

// Run statuses in run.json.
const (
	statusRunning     = "running"
	statusInterrupted = "interrupted"
	statusDiverged    = "diverged"
	statusDone        = "done"
)

// trainOptions are the flags of nabla train.
type trainOptions struct {
	model, device, optimizer, schedule, data, out string
	epochs, batch, limit                          int
	lr, weightDecay, dropout                      float64
	seed                                          uint64
	resume                                        bool
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("train", "train [-model mlp|cnn] [-device auto|cpu|cuda[:N]] [-epochs N] [-optimizer NAME] [-data DIR] [-out DIR] [-resume] [flags]", stderr)
	var o trainOptions
	flags.StringVar(&o.model, "model", "mlp", "network: mlp (784-256-128-10 perceptron) or cnn (two convolution blocks)")
	flags.StringVar(&o.device, "device", "auto", "device to train on: auto (a GPU when there is one), cpu, cuda or cuda:N")
	flags.IntVar(&o.epochs, "epochs", 5, "number of epochs; with -resume, the total including those done")
	flags.IntVar(&o.batch, "batch", 64, "mini-batch size")
	flags.Float64Var(&o.lr, "lr", 0, "learning rate (default 0.1 for sgd, 0.01 for momentum and adagrad, 0.001 for rmsprop, adam and adamw)")
	flags.StringVar(&o.optimizer, "optimizer", "adam", "optimizer: sgd, momentum (SGD, momentum 0.9), adagrad, rmsprop, adam or adamw")
	flags.StringVar(&o.schedule, "schedule", "cosine", "learning-rate schedule over the run's epochs: cosine (from -lr down to 0, as torch's CosineAnnealingLR stepped per epoch) or none")
	flags.Float64Var(&o.weightDecay, "weight-decay", 0, "weight decay: an L2 penalty, decoupled for adamw (whose default is 0.01)")
	flags.Float64Var(&o.dropout, "dropout", 0, "dropout probability after the hidden layers (0: no dropout)")
	flags.Uint64Var(&o.seed, "seed", 1, "random seed of the initialisation, the shuffling and dropout")
	flags.StringVar(&o.data, "data", "", "directory holding the Fashion-MNIST IDX files, or \"embedded\" (default: $NABLA_DATA, else "+data.DefaultFashionMNISTDir+" when present, else the embedded test split)")
	flags.StringVar(&o.out, "out", "out", "directory for the checkpoint, the trained model, run.json and the PNG curves")
	flags.BoolVar(&o.resume, "resume", false, "continue the run in -out from its last checkpoint")
	flags.IntVar(&o.limit, "limit", 0, hiddenPrefix+"train on the first N training samples only (0: all)")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	set := flagsSet(flags)
	if err := o.validate(); err != nil {
		return err
	}
	dev, err := parseDevice(o.device)
	if err != nil {
		return err
	}

	var cfg runConfig
	epochs := o.epochs
	if o.resume {
		rec, err := readRunRecord(o.out)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return usagef("-resume: no run to resume in %s (%s is missing); train without -resume first", o.out, filepath.Join(o.out, runFile))
			}
			return err
		}
		if rec.Status == statusDiverged && rec.Diverged != nil {
			return usagef("-resume: the run in %s diverged (%v): resuming it would diverge again; train a new run (without -resume) with a smaller -lr than %g",
				o.out, rec.Diverged, rec.Config.LR)
		}
		if cfg, err = o.resumeConfig(set, rec); err != nil {
			return err
		}
		if !set["epochs"] {
			epochs = rec.Epochs
		}
	} else {
		src, err := resolveData(o.data)
		if err != nil {
			return err
		}
		cfg = o.config(set, src)
	}
	// Before the data is loaded and the work done: can -out be written?
	if err := checkWritable(o.out); err != nil {
		return usagef("-out %s: %v", o.out, err)
	}

	ctx, stop := interruptContext()
	defer stop()
	// After the first Ctrl-C, a second one kills the process at once
	// (without a checkpoint), as it would any program.
	go func() { <-ctx.Done(); stop() }()
	t := &trainer{cfg: cfg, epochs: epochs, dev: dev, out: o.out, stdout: stdout, stderr: stderr}
	if set["device"] {
		t.resumeFlags = " -device " + o.device
	}
	return t.run(ctx, o.resume)
}

func (o *trainOptions) validate() error {
	if err := checkChoice("model", "model", o.model, modelNames); err != nil {
		return err
	}
	if err := checkChoice("optimizer", "optimizer", o.optimizer, optimizerNames); err != nil {
		return err
	}
	if err := checkChoice("schedule", "schedule", o.schedule, scheduleNames); err != nil {
		return err
	}
	if err := positiveInt("epochs", o.epochs, "number of epochs"); err != nil {
		return err
	}
	if err := positiveInt("batch", o.batch, "batch size"); err != nil {
		return err
	}
	switch {
	case !(o.lr >= 0 && !math.IsInf(o.lr, 1)):
		return usagef("-lr %v: want a finite, positive learning rate (or 0 for the optimizer's default)", o.lr)
	case !(o.weightDecay >= 0 && !math.IsInf(o.weightDecay, 1)):
		return usagef("-weight-decay %v: want a finite number, 0 or more", o.weightDecay)
	case !(o.dropout >= 0 && o.dropout < 1):
		return usagef("-dropout %v: want a probability in [0, 1)", o.dropout)
	case o.limit < 0:
		return usagef("-limit %d: want 0 (all samples) or a positive number of samples", o.limit)
	}
	return nil
}

// config builds a new run's configuration from the flags.
func (o *trainOptions) config(set map[string]bool, src dataSource) runConfig {
	cfg := runConfig{
		Model: o.model, Optimizer: o.optimizer, LR: o.lr, WeightDecay: o.weightDecay,
		Dropout: o.dropout, Batch: o.batch, Seed: o.seed, Limit: o.limit, Data: src,
	}
	if cfg.LR == 0 {
		cfg.LR = defaultLR[cfg.Optimizer]
	}
	if o.schedule == "cosine" {
		cfg.Schedule = "cosine"
	}
	if !set["weight-decay"] {
		cfg.WeightDecay = defaultWeightDecay(cfg.Optimizer)
	}
	return cfg
}

// resumeConfig returns the configuration of the run to resume. Flags
// given on the command line must agree with it, except -epochs and
// -device, which may change.
func (o *trainOptions) resumeConfig(set map[string]bool, rec *runRecord) (runConfig, error) {
	cfg := rec.Config
	differs := func(name string, have, want any) error {
		return usagef("-resume: -%s %v differs from the run in %s, which has -%s %v; leave -%s out to resume it, or train a new run into another -out",
			name, have, o.out, name, want, name)
	}
	checks := []struct {
		name       string
		have, want any
	}{
		{"model", o.model, cfg.Model},
		{"optimizer", o.optimizer, cfg.Optimizer},
		{"schedule", o.schedule, scheduleName(cfg.Schedule)},
		{"lr", o.lr, cfg.LR},
		{"weight-decay", o.weightDecay, cfg.WeightDecay},
		{"dropout", o.dropout, cfg.Dropout},
		{"batch", o.batch, cfg.Batch},
		{"seed", o.seed, cfg.Seed},
		{"limit", o.limit, cfg.Limit},
	}
	for _, c := range checks {
		if set[c.name] && fmt.Sprint(c.have) != fmt.Sprint(c.want) {
			return cfg, differs(c.name, c.have, c.want)
		}
	}
	if set["data"] {
		src, err := resolveData(o.data)
		if err != nil {
			return cfg, err
		}
		if src.Dir != cfg.Data.Dir {
			return cfg, differs("data", strconv.Quote(o.data), cfg.Data)
		}
	}
	return cfg, nil
}

// readRunRecord reads run.json from dir.
func readRunRecord(dir string) (*runRecord, error) {
	path := filepath.Join(dir, runFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rec runRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkChoice("model", "model", rec.Config.Model, modelNames); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &rec, nil
}

// writeFileAtomic writes b to path through a temporary file, fsync and a
// rename (safetensors.WriteFileAtomic, which the checkpoints use too, so
// that the temporary files of a run killed mid-write are removed by the
// next write of the same file). Its errors name path (and its directory),
// not the temporary file.
func writeFileAtomic(path string, b []byte) error {
	err := safetensors.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("cannot write %s (in %s): %v", filepath.Base(path), filepath.Dir(path), pathErr(err))
	}
	return nil
}

// makeOptimizer builds the optimizer the configuration names.
func makeOptimizer(cfg runConfig, params []*autograd.Var) optim.Optimizer {
	wd := optim.WeightDecay(cfg.WeightDecay)
	switch cfg.Optimizer {
	case "sgd":
		return optim.SGD(params, cfg.LR, wd)
	case "momentum":
		return optim.SGD(params, cfg.LR, optim.Momentum(0.9), wd)
	case "adagrad":
		return optim.AdaGrad(params, cfg.LR, wd)
	case "rmsprop":
		return optim.RMSProp(params, cfg.LR, wd)
	case "adamw":
		return optim.AdamW(params, cfg.LR, wd)
	default:
		return optim.Adam(params, cfg.LR, wd)
	}
}

// trainer runs one training run.
type trainer struct {
	cfg            runConfig
	epochs         int
	dev            device.Device
	out            string
	stdout, stderr io.Writer
	resumeFlags    string // flags to repeat in the resume command

	rec   runRecord
	model nn.Module
	opt   optim.Optimizer
	curve *epochCurve // the epoch in progress
}

func (t *trainer) path(name string) string { return filepath.Join(t.out, name) }

func (t *trainer) run(ctx context.Context, resume bool) error {
	cfg := t.cfg
	s, err := loadSplits(cfg.Data, cfg.Limit)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(t.out, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "data: %s\n", s.describe())
	info, err := device.Describe(t.dev)
	if err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "device: %v\n", info)

	// The model, the optimizer and the loaders, every op on t.dev.
	tensor.ManualSeed(cfg.Seed)
	model, err := models.ByName(cfg.Model, cfg.Dropout)
	if err != nil {
		return err
	}
	model = model.To(t.dev)
	opt := makeOptimizer(cfg, model.Parameters())
	t.model, t.opt = model, opt
	loaderGen := tensor.NewGenerator(cfg.Seed + 1)
	trainLoader, err := data.NewLoader(s.train, data.BatchSize(cfg.Batch), data.ShuffleWith(loaderGen), data.ToDevice(t.dev))
	if err != nil {
		return err
	}
	evalBatch := max(cfg.Batch, 500)
	valLoader, err := data.NewLoader(s.val, data.BatchSize(evalBatch), data.ToDevice(t.dev))
	if err != nil {
		return err
	}
	testLoader, err := data.NewLoader(s.test, data.BatchSize(evalBatch), data.ToDevice(t.dev))
	if err != nil {
		return err
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}

	startEpoch, startStep, startLoss := 0, 0, 0.0
	var history []epochStats
	// epochEndCheckpoint: the checkpoint in -out holds the model at the
	// end of the last epoch in the history (not in the middle of one),
	// the model kept when a later epoch diverges.
	epochEndCheckpoint := false
	var steps []stepPoint
	var startCurve curveState
	if resume {
		ck := optim.Checkpoint{Model: model, Optimizer: opt, DataGenerator: loaderGen}
		if err := optim.LoadCheckpoint(t.path(checkpointFile), &ck); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("-resume: %s holds no checkpoint (%s is missing)", t.out, checkpointFile)
			}
			return fmt.Errorf("-resume: %w", err)
		}
		if ck.Metadata[metaRun] != string(cfgJSON) {
			return fmt.Errorf("-resume: %s was written by another run than %s describes (checkpoint: %s)",
				t.path(checkpointFile), t.path(runFile), ck.Metadata[metaRun])
		}
		startEpoch = ck.Epoch
		if startStep, err = strconv.Atoi(ck.Metadata[metaStep]); err != nil {
			return fmt.Errorf("-resume: %s: bad step %q", t.path(checkpointFile), ck.Metadata[metaStep])
		}
		if startLoss, err = strconv.ParseFloat(ck.Metadata[metaLossSum], 64); err != nil {
			return fmt.Errorf("-resume: %s: bad loss sum %q", t.path(checkpointFile), ck.Metadata[metaLossSum])
		}
		if err := json.Unmarshal([]byte(ck.Metadata[metaHistory]), &history); err != nil {
			return fmt.Errorf("-resume: %s: bad history: %v", t.path(checkpointFile), err)
		}
		if steps, startCurve, err = parseCurveMeta(ck.Metadata); err != nil {
			return fmt.Errorf("-resume: %s: %v", t.path(checkpointFile), err)
		}
		if err := checkResumePoint(ck.Epoch, startStep, startLoss, len(history), trainLoader.Len()); err != nil {
			return fmt.Errorf("-resume: %s: %w", t.path(checkpointFile), err)
		}
		if startEpoch < t.epochs {
			// The weights of the run before this resume would look like
			// the result until the resumed run writes its own.
			if err := os.Remove(t.path(modelFile)); err == nil {
				fmt.Fprintf(t.stdout, "note: removed %s, the weights before this resume; the resumed run writes new ones when it finishes\n", t.path(modelFile))
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		at := fmt.Sprintf("the end of epoch %d", startEpoch)
		if startStep > 0 {
			at = fmt.Sprintf("epoch %d, step %d of %d", startEpoch+1, startStep, trainLoader.Len())
		}
		fmt.Fprintf(t.stdout, "resuming %s from %s\n", t.path(checkpointFile), at)
		epochEndCheckpoint = startStep == 0 && startEpoch > 0
	} else {
		// A new run: outputs of an earlier run in -out would be stale.
		if _, err := os.Stat(t.path(checkpointFile)); err == nil {
			fmt.Fprintf(t.stdout, "note: starting a new run in %s, replacing the one there (use -resume to continue a run)\n", t.out)
		}
		for _, name := range []string{checkpointFile, modelFile, confusionPNG, lossPNG, accuracyPNG} {
			if err := os.Remove(t.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	fmt.Fprintf(t.stdout, "model: %s, %d parameters\n", cfg.Model, nn.NumParameters(model))
	// The run's learning rate, not the scheduled one a checkpoint holds
	// (which prints as 0.0002500000000000001); each epoch sets its own.
	opt.SetLR(cfg.LR)
	fmt.Fprintf(t.stdout, "optimizer: %v, learning-rate schedule: %s\n", opt, scheduleName(cfg.Schedule))

	t.rec = runRecord{
		Program: "nabla train", Config: cfg, Epochs: t.epochs, Device: t.dev.String(),
		Data: s.describe(), Sizes: s.sizes(), Classes: s.classes,
		Parameters: nn.NumParameters(model), Status: statusRunning, History: append([]epochStats{}, history...), Steps: steps,
	}
	if err := t.writeRecord(); err != nil {
		return err
	}

	save := func(epoch, step int, lossSum float64, dataGen *tensor.Generator) error {
		hist, err := json.Marshal(t.rec.History)
		if err != nil {
			return err
		}
		meta, err := t.curveMeta()
		if err != nil {
			return err
		}
		meta[metaRun], meta[metaStep] = string(cfgJSON), strconv.Itoa(step)
		meta[metaLossSum], meta[metaHistory] = strconv.FormatFloat(lossSum, 'g', -1, 64), string(hist)
		return optim.SaveCheckpoint(t.path(checkpointFile), optim.Checkpoint{
			Epoch: epoch, Model: model, Optimizer: opt, DataGenerator: dataGen, Metadata: meta,
		})
	}

	lossFn := nn.CrossEntropyLoss()
	batches := trainLoader.Len()
	if startEpoch < t.epochs {
		if n := s.train.Len(); cfg.Batch > n {
			fmt.Fprintf(t.stdout, "note: -batch %d is larger than the training set (%d samples): every epoch is one batch of %d, one step\n", cfg.Batch, n, n)
		}
		fmt.Fprintf(t.stdout, "training epochs %d to %d: %s of %d\n", startEpoch+1, t.epochs, count(batches, "batch", "batches"), min(cfg.Batch, s.train.Len()))
	} else {
		fmt.Fprintf(t.stdout, "the run has done %d epochs of -epochs %d: nothing to train (raise -epochs to train on)\n", startEpoch, t.epochs)
	}
	for epoch := startEpoch; epoch < t.epochs; epoch++ {
		// The rate is a function of the epoch alone, so a resumed run
		// (even one whose -epochs was raised) needs no scheduler state.
		opt.SetLR(epochLR(cfg, epoch, t.epochs))
		// The loader's generator before the epoch draws its order: a
		// checkpoint in the middle of the epoch restores this state, so
		// that the resumed epoch visits the samples in the same order.
		state0 := loaderGen.State()
		skip, lossSum := 0, 0.0
		var curveStart curveState
		if epoch == startEpoch {
			skip, lossSum, curveStart = startStep, startLoss, startCurve
		}
		t.curve = newEpochCurve(epoch, batches, curveStart)
		done, samples := skip, 0
		var lossDev *tensor.Tensor // lossSum plus this run's losses, on the model's device
		start := time.Now()
		prog := newProgress(t.stderr, epoch+1, t.epochs, batches, skip)
		interrupted := false
		badLoss := false // the loss shown by the progress report is not a number
		model.Train()
		for b, err := range trainLoader.All() {
			if err != nil {
				prog.finish()
				return err
			}
			if b.Seq < skip {
				continue
			}
			x, y := b.X(), b.Y()
			opt.ZeroGrad()
			logits := model.Forward(autograd.Const(x))
			loss := lossFn(logits, autograd.Const(y))
			loss.Backward()
			opt.Step()
			t.curve.add(logits, y)
			// The running sum stays on the device, so the host queues
			// step after step without waiting for the GPU; it is read only
			// when the progress report shows it, at an interruption and at
			// the end of the epoch. float64 additions in step order give
			// the same sum as adding Item values on the host.
			l := loss.Detach().As(tensor.Float64)
			if lossDev == nil {
				lossDev = tensor.On(l.Device()).Of(tensor.Float64).Full(lossSum).Add(l)
			} else {
				lossDev = lossDev.Add(l)
			}
			done++
			samples += x.Size(0)
			sum, n := lossDev, done
			prog.step(done, samples, func() float64 {
				l := sum.Item() / float64(n)
				badLoss = badLoss || !isFinite(l)
				return l
			})
			if t.curve.due(done) {
				t.rec.Steps = append(t.rec.Steps, t.curve.cut(done, sum.Item()))
			}
			if afterStep != nil {
				afterStep(epoch+1, done, model)
			}
			if badLoss {
				break // no use training on NaN weights
			}
			if ctx.Err() != nil {
				interrupted = true
				break
			}
		}
		prog.finish()
		if lossDev != nil {
			lossSum = lossDev.Item()
		}
		if !isFinite(lossSum) {
			return t.diverged(&divergence{Epoch: epoch + 1, Step: done, Loss: strconv.FormatFloat(lossSum/float64(done), 'g', -1, 64)},
				epochEndCheckpoint, testLoader, s.test.Len())
		}
		if interrupted && done < batches {
			mid := tensor.NewGenerator(0)
			if err := mid.SetState(state0); err != nil {
				return err
			}
			if err := save(epoch, done, lossSum, mid); err != nil {
				return err
			}
			return t.interrupted(fmt.Sprintf("after step %d of %d in epoch %d", done, batches, epoch+1))
		}
		secs := time.Since(start).Seconds()
		val, err := models.Evaluate(model, valLoader)
		if err != nil {
			return err
		}
		valAcc := val.Accuracy
		st := epochStats{Epoch: epoch + 1, TrainLoss: lossSum / float64(done), TrainAccuracy: t.curve.accuracy(),
			ValLoss: jsonFloat(val.Loss), ValAccuracy: valAcc, Seconds: secs}
		t.curve = nil
		t.rec.History = append(t.rec.History, st)
		fmt.Fprintf(t.stdout, "epoch %d/%d: train loss %.4f, validation accuracy %.2f%%, %.1fs (%.0f samples/s)\n",
			epoch+1, t.epochs, st.TrainLoss, 100*valAcc, secs, float64(samples)/secs)
		if err := save(epoch+1, 0, 0, loaderGen); err != nil {
			return err
		}
		epochEndCheckpoint = true
		if err := t.writeCurves(); err != nil {
			return err
		}
		if err := t.writeRecord(); err != nil {
			return err
		}
		if ctx.Err() != nil && epoch+1 < t.epochs {
			return t.interrupted(fmt.Sprintf("at the end of epoch %d", epoch+1))
		}
	}

	testAcc, err := models.Accuracy(model, testLoader)
	if err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "test accuracy: %.2f%% (%d images)\n", 100*testAcc, s.test.Len())
	if err := nn.Save(t.path(modelFile), model); err != nil {
		return err
	}
	if len(t.rec.History) > 0 {
		if err := t.writeCurves(); err != nil {
			return err
		}
	}
	t.rec.Status = statusDone
	t.rec.TestAccuracy = &testAcc
	if err := t.writeRecord(); err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "wrote %s (weights), %s (configuration and history), %s (last checkpoint), %s and %s (curves)\n",
		t.path(modelFile), t.path(runFile), t.path(checkpointFile), t.path(lossPNG), t.path(accuracyPNG))
	fmt.Fprintf(t.stdout, "evaluate with: %s eval -out %s\n", self(), t.out)
	return nil
}

// checkResumePoint checks where a checkpoint says the run stands against
// the run itself: the checkpoint is written after every epoch and at an
// interruption, so its epoch is the number of epochs in its history, and
// its step, within the epoch in progress, is before the epoch's last
// batch (an interruption after it saves at the end of the epoch), with
// the loss summed over those steps (a cross-entropy: finite, not
// negative, 0 before the first step). A checksum cannot tell a file
// written by another program from ours; these can.
func checkResumePoint(epoch, step int, lossSum float64, history, batches int) error {
	switch {
	case epoch != history:
		return fmt.Errorf("it is at epoch %d but its history records %d epochs: it was not written by this run", epoch, history)
	case step < 0 || step >= batches:
		return fmt.Errorf("step %d is outside the epoch's %d batches (0 to %d)", step, batches, batches-1)
	case !(lossSum >= 0) || math.IsInf(lossSum, 1):
		return fmt.Errorf("the loss summed over the epoch's first %d steps is %v, not a cross-entropy", step, lossSum)
	case step == 0 && lossSum != 0:
		return fmt.Errorf("the loss summed before the epoch's first step is %v, not 0", lossSum)
	}
	return nil
}

// interrupted records an interrupted run and says how to resume it.
func (t *trainer) interrupted(where string) error {
	t.rec.Status = statusInterrupted
	if err := t.writeRecord(); err != nil {
		return err
	}
	fmt.Fprintf(t.stderr, "interrupted %s; checkpoint saved to %s\nresume with: %s train -resume -out %s%s\n",
		where, t.path(checkpointFile), self(), t.out, t.resumeFlags)
	return errInterrupted
}

// diverged ends a run whose training loss is no longer a number: its
// weights are NaN, so training on is useless. It keeps what is
// meaningful: when the checkpoint holds the end of the last good epoch
// (epochEndCheckpoint), that model is restored, tested and saved as the
// run's model with the curves so far; the checkpoint is left as it is (a
// NaN one is never written). run.json says where the run diverged.
func (t *trainer) diverged(d *divergence, epochEndCheckpoint bool, testLoader *data.Loader, testImages int) error {
	t.rec.Status = statusDiverged
	t.rec.Diverged = d
	kept := "nothing to keep: no epoch finished with a finite loss"
	if len(t.rec.History) > 0 {
		kept = fmt.Sprintf("kept the checkpoint of the last epoch with a finite loss in %s", t.path(checkpointFile))
	}
	if epochEndCheckpoint && len(t.rec.History) > 0 {
		last := t.rec.History[len(t.rec.History)-1]
		ck := optim.Checkpoint{Model: t.model}
		if err := optim.LoadCheckpoint(t.path(checkpointFile), &ck); err != nil {
			return err
		}
		testAcc, err := models.Accuracy(t.model, testLoader)
		if err != nil {
			return err
		}
		t.rec.TestAccuracy = &testAcc
		if err := nn.Save(t.path(modelFile), t.model); err != nil {
			return err
		}
		if err := t.writeCurves(); err != nil {
			return err
		}
		kept = fmt.Sprintf("kept the model of epoch %d (validation accuracy %.2f%%, test accuracy %.2f%% on %d images) in %s, with its checkpoint and the curves so far",
			last.Epoch, 100*last.ValAccuracy, 100*testAcc, testImages, t.path(modelFile))
	}
	if err := t.writeRecord(); err != nil {
		return err
	}
	return fmt.Errorf("training diverged: the mean training loss of epoch %d became %s (after %d batches): the weights are no longer numbers, so training stopped.\n"+
		"%s; the run's record is %s.\n"+
		"The learning rate is probably too large for -optimizer %s: train a new run with a smaller -lr than %g (its default is %g)",
		d.Epoch, d.Loss, d.Step, kept, t.path(runFile), t.cfg.Optimizer, t.cfg.LR, defaultLR[t.cfg.Optimizer])
}

// count writes n and the noun in the singular or plural.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// isFinite reports whether v is neither NaN nor infinite.
func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkWritable creates dir when it is missing and checks that files can
// be written in it, so that a command finds out before its work, not
// after; the error says why, and the caller names the directory.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the directory: %v", pathErr(err))
	}
	f, err := os.CreateTemp(dir, ".nabla-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in it: %v", pathErr(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// pathErr returns the reason of a *fs.PathError (the path left out, when
// the message names its own), or err.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (t *trainer) writeRecord() error {
	b, err := json.MarshalIndent(t.rec, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(t.path(runFile), append(b, '\n'))
}

// epochLR is the learning rate of epoch (from 0) of a run of total
// epochs: constant, or the cosine schedule eta_e = lr·(1+cos(π·e/total))/2,
// the values torch's CosineAnnealingLR(T_max=total, eta_min=0) takes when
// stepped once per epoch.
func epochLR(cfg runConfig, epoch, total int) float64 {
	if cfg.Schedule != "cosine" {
		return cfg.LR
	}
	return cfg.LR * (1 + math.Cos(math.Pi*float64(epoch)/float64(total))) / 2
}

// scheduleName is the -schedule value of a configuration.
func scheduleName(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
