package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports the steps of one training epoch: a progress bar on a
// terminal, a plain line every logInterval otherwise.
type progress interface {
	// step records one finished step: done batches of the epoch so far,
	// the samples of this run so far and the running mean loss, which it
	// calls only when it shows it, since reading it waits for the device.
	step(done, samples int, loss func() float64)
	// finish ends the epoch's report (clears the bar).
	finish()
}

// logInterval is how often plain progress lines are printed when stderr is
// not a terminal; tests shorten it.
var logInterval = 10 * time.Second

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress starts the report of epoch (from 1) of epochs, which has
// batches batches of which skip are already done (a resumed epoch).
func newProgress(w io.Writer, epoch, epochs, batches, skip int) progress {
	start := time.Now()
	label := fmt.Sprintf("epoch %d/%d", epoch, epochs)
	if isTerminal(w) {
		if skip > 0 {
			label += fmt.Sprintf(" (from step %d)", skip)
		}
		bar := progressbar.NewOptions(batches-skip,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("batch"),
			progressbar.OptionShowIts(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		bar.Describe(label)
		return &barProgress{bar: bar, label: label, start: start}
	}
	return &logProgress{w: w, label: label, batches: batches, skip: skip, start: start, last: start}
}

type barProgress struct {
	bar         *progressbar.ProgressBar
	label       string
	start, last time.Time
}

// barRefresh is how often the bar's loss and rate are updated: reading
// the loss synchronises with the device, so not after every step.
const barRefresh = 250 * time.Millisecond

func (p *barProgress) step(done, samples int, loss func() float64) {
	if now := time.Now(); now.Sub(p.last) >= barRefresh {
		p.last = now
		rate := float64(samples) / now.Sub(p.start).Seconds()
		p.bar.Describe(fmt.Sprintf("%s  loss %.4f  %.0f samples/s", p.label, loss(), rate))
	}
	_ = p.bar.Add(1)
}

func (p *barProgress) finish() { _ = p.bar.Finish() }

type logProgress struct {
	w             io.Writer
	label         string
	batches, skip int
	start, last   time.Time
}

func (p *logProgress) step(done, samples int, loss func() float64) {
	now := time.Now()
	if now.Sub(p.last) < logInterval || done == p.batches {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	rate := float64(samples) / elapsed.Seconds()
	eta := time.Duration(float64(elapsed) / float64(done-p.skip) * float64(p.batches-done))
	fmt.Fprintf(p.w, "%s: step %d/%d, loss %.4f, %.0f samples/s, eta %s\n",
		p.label, done, p.batches, loss(), rate, eta.Round(time.Second))
}

func (p *logProgress) finish() {}
