package optim

import (
	"fmt"
	"math"
)

// The warm-up schedules: a reduced learning rate for the first epochs,
// usually followed by another schedule through SequentialLR.

// LinearLR scales the learning rate by a factor that goes linearly from
// startFactor to endFactor over totalIters epochs and stays there,
// torch.optim.lr_scheduler.LinearLR (PyTorch's defaults are 1/3, 1 and
// 5): a linear warm-up when startFactor < endFactor. The rate of epoch e
// is base_lr·(start + (end-start)·min(e, totalIters)/totalIters), reached
// by PyTorch's recurrence from the current rate. Factors lie in (0, 1]
// (endFactor may be 0).
func LinearLR(opt Optimizer, startFactor, endFactor float64, totalIters int) Scheduler {
	return newSchedule("LinearLR", opt,
		map[string]float64{"start_factor": startFactor, "end_factor": endFactor, "total_iters": float64(totalIters)},
		[]string{"start_factor", "end_factor", "total_iters"},
		func(v map[string]float64) string {
			if !(v["start_factor"] > 0 && v["start_factor"] <= 1) {
				return fmt.Sprintf("invalid start_factor %v: it must lie in (0, 1]", v["start_factor"])
			}
			if !(v["end_factor"] >= 0 && v["end_factor"] <= 1) {
				return fmt.Sprintf("invalid end_factor %v: it must lie in [0, 1]", v["end_factor"])
			}
			return wholeAtLeast("total_iters", v["total_iters"], 1)
		},
		func(s *schedule) float64 {
			lr := s.opt.LR()
			start, end, total := s.values["start_factor"], s.values["end_factor"], s.values["total_iters"]
			e := float64(s.lastEpoch)
			switch {
			case s.lastEpoch == 0:
				return lr * start
			case e > total:
				return lr
			}
			return lr * (1 + (end-start)/(total*start+(e-1)*(end-start)))
		}).withClosedForm(func(s *schedule) float64 {
		start, end, total := s.values["start_factor"], s.values["end_factor"], s.values["total_iters"]
		return s.baseLR * (start + (end-start)*math.Min(total, float64(s.lastEpoch))/total)
	})
}

// ConstantLR scales the learning rate by factor for the first totalIters
// epochs and restores it at epoch totalIters,
// torch.optim.lr_scheduler.ConstantLR (PyTorch's defaults are 1/3 and 5):
// a constant warm-up. factor lies in (0, 1].
func ConstantLR(opt Optimizer, factor float64, totalIters int) Scheduler {
	return newSchedule("ConstantLR", opt,
		map[string]float64{"factor": factor, "total_iters": float64(totalIters)},
		[]string{"factor", "total_iters"},
		func(v map[string]float64) string {
			if !(v["factor"] > 0 && v["factor"] <= 1) {
				return fmt.Sprintf("invalid factor %v: it must lie in (0, 1]", v["factor"])
			}
			return wholeAtLeast("total_iters", v["total_iters"], 1)
		},
		func(s *schedule) float64 {
			lr := s.opt.LR()
			switch e := float64(s.lastEpoch); {
			case s.lastEpoch == 0:
				return lr * s.values["factor"]
			case e == s.values["total_iters"]:
				return lr * (1 / s.values["factor"])
			}
			return lr
		}).withClosedForm(func(s *schedule) float64 {
		factor := s.values["factor"]
		if float64(s.lastEpoch) >= s.values["total_iters"] {
			return s.baseLR * (factor + (1 - factor))
		}
		return s.baseLR * factor
	})
}

// wholeAtLeast checks that v, a count stored as float64, is a whole
// number of at least least.
func wholeAtLeast(name string, v float64, least int) string {
	if !(v >= float64(least)) || v != math.Trunc(v) || v > maxStepCount {
		return fmt.Sprintf("invalid %s %v: it must be a whole number >= %d", name, v, least)
	}
	return ""
}
