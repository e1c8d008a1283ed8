package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestProgressBar draws a terminal progress bar with a fake clock: every
// line is exactly the width (80 columns at most), the first one has no
// rate (no "0 batch/hr"), and each line's loss is that of the count it
// shows.
func TestProgressBar(t *testing.T) {
	cases := []struct {
		name                 string
		batches, skip, width int
		label                string
		stepEvery            time.Duration
		// the fields shown: the loss, the time left and the rate
		wantLoss, wantETA, wantRate bool
	}{
		{"a usual epoch", 843, 0, 80, "epoch 1/5", 100 * time.Millisecond, true, true, true},
		{"a resumed epoch", 843, 300, 80, "epoch 12/100", 300 * time.Millisecond, true, true, true},
		{"big numbers: no room for the rate", 100000, 0, 80, "epoch 100/100", 3 * time.Second, true, true, false},
		{"a narrow terminal", 843, 0, 50, "epoch 1/5", 300 * time.Millisecond, true, false, false},
		{"a very narrow terminal", 843, 0, 30, "epoch 1/5", 300 * time.Millisecond, false, false, false},
		{"one batch", 1, 0, 80, "epoch 1/1", time.Second, true, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			now := func() time.Time { return clock }
			p := newBar(&out, tc.label, tc.batches, tc.skip, tc.width, now)
			samples := 0
			last := min(tc.batches, tc.skip+2000)
			for done := tc.skip + 1; done <= last; done++ {
				clock = clock.Add(tc.stepEvery)
				samples += 64
				p.step(done, samples, func() float64 { return float64(done) / 1e5 })
			}
			p.finish()
			frames := strings.Split(out.String(), "\r")
			require.Empty(t, frames[0])
			frames = frames[1:]
			require.Greater(t, len(frames), 2)
			require.Equal(t, strings.Repeat(" ", tc.width), frames[len(frames)-2], "finish clears the line")
			require.Empty(t, frames[len(frames)-1])
			frames = frames[:len(frames)-2]

			require.Contains(t, frames[0], fmt.Sprintf("%d/%d", tc.skip, tc.batches))
			require.NotContains(t, frames[0], "samples/s", "no rate before one is measured")
			for i, f := range frames {
				require.Len(t, f, tc.width, "frame %d: %q", i, f)
				require.True(t, strings.HasPrefix(f, tc.label+" "), f)
				require.NotContains(t, f, "/hr")
				if i == 0 {
					continue
				}
				var done, total int
				_, err := fmt.Sscanf(strings.TrimLeft(f[strings.Index(f, "]")+1:], " "), "%d/%d", &done, &total)
				require.NoError(t, err, f)
				require.Equal(t, tc.wantLoss, strings.Contains(f, fmt.Sprintf("%d/%d  loss %.4f", done, tc.batches, float64(done)/1e5)), "the loss of the batches shown: %q", f)
				require.Equal(t, tc.wantETA, strings.Contains(f, "  eta "), f)
				require.Equal(t, tc.wantRate, strings.Contains(f, fmt.Sprintf(" %.0f samples/s", 64/tc.stepEvery.Seconds())), f)
			}
			require.Contains(t, frames[len(frames)-1], fmt.Sprintf("%d/%d", last, tc.batches), "the last step is drawn")
		})
	}
}
