package optim

// LambdaLR sets the learning rate to the base rate times lrLambda(epoch),
// torch.optim.lr_scheduler.LambdaLR: any schedule written as a function
// of the epoch, such as a linear warm-up
//
//	warmup := optim.LambdaLR(opt, func(epoch int) float64 { return min(1, float64(epoch+1)/5) })
//
// The function is not part of the state dict (PyTorch saves plain
// functions neither): a resumed run builds the schedule with the same
// function and loads the epoch counter and rates into it.
func LambdaLR(opt Optimizer, lrLambda func(epoch int) float64) Scheduler {
	if lrLambda == nil {
		argPanic("optim.LambdaLR", "nil lrLambda function")
	}
	rate := func(s *schedule) float64 { return s.baseLR * lrLambda(s.lastEpoch) }
	return newSchedule("LambdaLR", opt, map[string]float64{}, nil, noCheck, rate).withClosedForm(rate)
}

// MultiplicativeLR multiplies the learning rate by lrLambda(epoch) at
// every Step after the first, torch.optim.lr_scheduler.MultiplicativeLR:
// lr_e = lr_(e-1) · lrLambda(e). Like LambdaLR's, the function is not
// saved with the state.
func MultiplicativeLR(opt Optimizer, lrLambda func(epoch int) float64) Scheduler {
	if lrLambda == nil {
		argPanic("optim.MultiplicativeLR", "nil lrLambda function")
	}
	return newSchedule("MultiplicativeLR", opt, map[string]float64{}, nil, noCheck,
		func(s *schedule) float64 {
			lr := s.opt.LR()
			if s.lastEpoch > 0 {
				return lr * lrLambda(s.lastEpoch)
			}
			return lr
		})
}

func noCheck(map[string]float64) string { return "" }
