package main

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/tensor"
)

// The training curves: the training loss and accuracy over stretches of
// each epoch (pointsPerEpoch of them, so that even a one-epoch run draws
// a curve), and the per-epoch training and validation loss and accuracy,
// drawn side by side in loss.png and accuracy.png.

// pointsPerEpoch is how many points of the training curves each epoch
// gets (every step, when an epoch has fewer batches).
const pointsPerEpoch = 20

// Checkpoint metadata keys of the curves.
const (
	metaSteps = "steps" // the points so far, as JSON
	metaCurve = "curve" // the epoch in progress (curveState), as JSON
)

// jsonFloat is a float64 that JSON holds as null when it is NaN or
// infinite (a diverged run's loss), which encoding/json refuses to write.
type jsonFloat float64

// MarshalJSON writes the number, or null when it is not finite.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// UnmarshalJSON reads a number, or null as NaN.
func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	return json.Unmarshal(b, (*float64)(f))
}

// stepPoint is the training loss and accuracy over a stretch of batches.
type stepPoint struct {
	// Epoch is where the stretch ends, in epochs: 1.5 is half-way
	// through the second epoch, 2 its end.
	Epoch float64 `json:"epoch"`
	// Loss is the mean batch loss over the stretch.
	Loss jsonFloat `json:"train_loss"`
	// Accuracy is the fraction of the stretch's samples that the model
	// classified correctly as it trained on them.
	Accuracy float64 `json:"train_accuracy"`
}

// curveMark is where the epoch stood at its last point: the batches done,
// their loss sum, the correct predictions and the samples.
type curveMark struct {
	Step    int     `json:"step"`
	LossSum float64 `json:"loss_sum"`
	Correct int64   `json:"correct"`
	Samples int     `json:"samples"`
}

// curveState is what a mid-epoch checkpoint keeps of the epoch in
// progress, so that a resumed run draws the same points: the correct
// predictions and samples so far, and the last point's mark.
type curveState struct {
	Correct int64     `json:"correct"`
	Samples int       `json:"samples"`
	Mark    curveMark `json:"mark"`
}

// epochCurve follows one epoch: the count of correct predictions on the
// model's device (read only when a point is cut, like the loss sum) and
// the mark of the last point.
type epochCurve struct {
	epoch, batches int
	correct        *tensor.Tensor // Int64 0-d on the model's device; nil before the first step
	startCorrect   int64          // the count a resumed epoch starts from
	samples        int            // samples trained on in the epoch, resumed ones included
	mark           curveMark
}

// newEpochCurve starts epoch (from 0) of batches steps, from the state a
// checkpoint saved (the zero state at an epoch's start).
func newEpochCurve(epoch, batches int, st curveState) *epochCurve {
	return &epochCurve{epoch: epoch, batches: batches, startCorrect: st.Correct, samples: st.Samples, mark: st.Mark}
}

// add counts the batch's correct predictions (logits [N, C] against the
// Int64 labels y) on the device.
func (c *epochCurve) add(logits *autograd.Var, y *tensor.Tensor) {
	var hits *tensor.Tensor
	autograd.NoGrad(func() { hits = logits.Detach().ArgMax(1).Eq(y).Sum() })
	if c.correct == nil {
		c.correct = hits.Add(c.startCorrect)
	} else {
		c.correct = c.correct.Add(hits)
	}
	c.samples += y.Size(0)
}

// due reports whether step done (from 1) ends a stretch.
func (c *epochCurve) due(done int) bool {
	return done == c.batches || done*pointsPerEpoch/c.batches > (done-1)*pointsPerEpoch/c.batches
}

// count returns the correct predictions so far (a device read).
func (c *epochCurve) count() int64 {
	if c.correct == nil {
		return c.startCorrect
	}
	return int64(c.correct.Item())
}

// cut returns the point of the stretch ending at step done, where the
// epoch's loss sum is lossSum, and starts the next stretch there.
func (c *epochCurve) cut(done int, lossSum float64) stepPoint {
	correct := c.count()
	p := stepPoint{
		Epoch:    float64(c.epoch) + float64(done)/float64(c.batches),
		Loss:     jsonFloat((lossSum - c.mark.LossSum) / float64(done-c.mark.Step)),
		Accuracy: float64(correct-c.mark.Correct) / float64(max(1, c.samples-c.mark.Samples)),
	}
	c.mark = curveMark{Step: done, LossSum: lossSum, Correct: correct, Samples: c.samples}
	return p
}

// state is what a checkpoint in the middle of the epoch keeps.
func (c *epochCurve) state() curveState {
	return curveState{Correct: c.count(), Samples: c.samples, Mark: c.mark}
}

// accuracy is the epoch's training accuracy.
func (c *epochCurve) accuracy() float64 { return float64(c.count()) / float64(max(1, c.samples)) }

// parseCurveMeta reads the points and the epoch state that a checkpoint's
// metadata holds; checkpoints written before the curves had them hold
// neither.
func parseCurveMeta(meta map[string]string) ([]stepPoint, curveState, error) {
	var steps []stepPoint
	var st curveState
	if s, ok := meta[metaSteps]; ok {
		if err := json.Unmarshal([]byte(s), &steps); err != nil {
			return nil, st, fmt.Errorf("bad training-curve points: %v", err)
		}
	}
	if s, ok := meta[metaCurve]; ok {
		if err := json.Unmarshal([]byte(s), &st); err != nil {
			return nil, st, fmt.Errorf("bad training-curve state: %v", err)
		}
	}
	return steps, st, nil
}

// curveMeta is the checkpoint metadata of the curves.
func (t *trainer) curveMeta() (map[string]string, error) {
	steps, err := json.Marshal(t.rec.Steps)
	if err != nil {
		return nil, err
	}
	var st curveState
	if t.curve != nil {
		st = t.curve.state()
	}
	state, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return map[string]string{metaSteps: string(steps), metaCurve: string(state)}, nil
}

// writeCurves draws loss.png and accuracy.png: the training values per
// stretch (a thin line) and per epoch, and the validation values per
// epoch, on shared axes.
func (t *trainer) writeCurves() error {
	var stepLoss, stepAcc, trainLoss, trainAcc, valLoss, valAcc []xy
	for _, p := range t.rec.Steps {
		stepLoss = append(stepLoss, xy{p.Epoch, float64(p.Loss)})
		stepAcc = append(stepAcc, xy{p.Epoch, 100 * p.Accuracy})
	}
	for _, h := range t.rec.History {
		e := float64(h.Epoch)
		trainLoss = append(trainLoss, xy{e, h.TrainLoss})
		trainAcc = append(trainAcc, xy{e, 100 * h.TrainAccuracy})
		valLoss = append(valLoss, xy{e, float64(h.ValLoss)})
		valAcc = append(valAcc, xy{e, 100 * h.ValAccuracy})
	}
	title := fmt.Sprintf("nabla train -model %s -optimizer %s", t.cfg.Model, t.cfg.Optimizer)
	err := writeCurvePlot(t.path(lossPNG), title+": loss", "mean cross-entropy loss", false, []curveSeries{
		{name: "training, within epochs", points: stepLoss, thin: true, color: trainColor},
		{name: "training, per epoch", points: trainLoss, color: trainColor},
		{name: "validation, per epoch", points: valLoss, color: valColor},
	})
	if err != nil {
		return err
	}
	return writeCurvePlot(t.path(accuracyPNG), title+": accuracy", "accuracy (%)", true, []curveSeries{
		{name: "training, within epochs", points: stepAcc, thin: true, color: trainColor},
		{name: "training, per epoch", points: trainAcc, color: trainColor},
		{name: "validation, per epoch", points: valAcc, color: valColor},
	})
}
