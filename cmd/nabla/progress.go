package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

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
		return newBar(w, label, batches, skip, terminalWidth(w), time.Now)
	}
	return &logProgress{w: w, label: label, batches: batches, skip: skip, start: start, last: start}
}

// maxBarWidth is the widest the progress bar's line gets, whatever the
// terminal's width.
const maxBarWidth = 80

// terminalWidth returns the columns the bar's line may use on w: the
// terminal's width less one (a line that fills the last column wraps on
// some terminals), at most maxBarWidth.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 1 {
			return min(maxBarWidth, cols-1)
		}
	}
	return maxBarWidth
}

// barProgress draws one line, redrawn in place:
//
//	epoch 1/5 [====>         ] 312/843  loss 0.6123  eta 12s    41342 samples/s
//
// always width columns wide, with a bar and fields of fixed widths, so
// that the line neither wraps nor moves nor leaves the end of a longer
// one behind; on a narrow terminal the fields that do not fit are left
// out. The count, the loss and the rate are read at the same moment, so
// the loss is that of the batches the bar shows; the rate and the time
// left appear once they are measured, not as "0 batch/hr".
type barProgress struct {
	w             io.Writer
	label         string
	batches, skip int
	width, barW   int
	countW        int
	fields        int // how many of loss, eta and rate fit
	now           func() time.Time
	start, last   time.Time
	drawn         bool
}

// The fields after the count, in the order they are dropped from the
// right on a narrow terminal, and their widths.
var barFieldWidths = []int{len("  loss 0.0000"), len("  eta 00m00s"), len("  000000 samples/s")}

// minBar is the narrowest bar drawn.
const minBar = 10

func newBar(w io.Writer, label string, batches, skip, width int, now func() time.Time) *barProgress {
	t := now()
	p := &barProgress{w: w, label: label, batches: batches, skip: skip, width: width, now: now, start: t, last: t}
	p.countW = 2*len(strconv.Itoa(batches)) + 1
	p.fields = len(barFieldWidths)
	for {
		p.barW = width - len(label) - len(" [] ") - p.countW
		for _, fw := range barFieldWidths[:p.fields] {
			p.barW -= fw
		}
		if p.barW >= minBar || p.fields == 0 {
			break
		}
		p.fields--
	}
	p.draw(skip, "", 0, 0)
	return p
}

// barRefresh is how often the bar is redrawn: reading the loss
// synchronises with the device, so not after every step.
const barRefresh = 250 * time.Millisecond

func (p *barProgress) step(done, samples int, loss func() float64) {
	now := p.now()
	if now.Sub(p.last) < barRefresh && done < p.batches {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	l := ""
	if p.fields > 0 {
		l = fmt.Sprintf("%.4f", loss())
	}
	rate := float64(samples) / elapsed.Seconds()
	eta := time.Duration(float64(elapsed) / float64(done-p.skip) * float64(p.batches-done))
	p.draw(done, l, rate, eta)
}

// draw writes the line for done batches; an empty loss and a zero rate
// leave their fields blank (not measured yet).
func (p *barProgress) draw(done int, loss string, rate float64, eta time.Duration) {
	var b strings.Builder
	b.WriteString(p.label)
	if p.barW >= minBar {
		filled := p.barW * done / max(p.batches, 1)
		b.WriteString(" [" + strings.Repeat("=", filled))
		if filled < p.barW {
			b.WriteString(">" + strings.Repeat(" ", p.barW-filled-1))
		}
		b.WriteString("]")
	}
	fmt.Fprintf(&b, " %*s", p.countW, fmt.Sprintf("%d/%d", done, p.batches))
	fields := []string{"", "", ""}
	if loss != "" {
		fields[0] = "  loss " + loss
	}
	if rate > 0 {
		fields[1] = "  eta " + eta.Round(time.Second).String()
		fields[2] = fmt.Sprintf("  %6.0f samples/s", rate)
	}
	for i, f := range fields[:p.fields] {
		fmt.Fprintf(&b, "%-*s", barFieldWidths[i], f)
	}
	s := b.String()
	if len(s) > p.width {
		s = s[:p.width]
	}
	fmt.Fprintf(p.w, "\r%-*s", p.width, s)
	p.drawn = true
}

// finish clears the line.
func (p *barProgress) finish() {
	if p.drawn {
		fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
		p.drawn = false
	}
}

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
