package optim

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// sequential is the Scheduler made by SequentialLR.
type sequential struct {
	opt        Optimizer
	schedules  []*schedule
	milestones []int
	lastEpoch  int
	lastLR     float64
}

// SequentialLR runs schedules one after another on opt,
// torch.optim.lr_scheduler.SequentialLR: schedules[i] is in charge from
// epoch milestones[i-1] on (schedules[0] from the start), and is
// restarted at its milestone from its closed form at epoch 0. The usual
// warm-up:
//
//	warmup := optim.LinearLR(opt, 0.1, 1, 5)
//	cosine := optim.CosineAnnealingLR(opt, 95, 0)
//	sched := optim.SequentialLR(opt, []optim.Scheduler{warmup, cosine}, []int{5})
//
// As in PyTorch, it resets the optimizer to its initial rate and replays
// the first schedule's initial step. The schedules must be built by this
// package on opt, and step only through the SequentialLR. Its state dict
// holds the schedules' states.
func SequentialLR(opt Optimizer, schedules []Scheduler, milestones []int) Scheduler {
	const op = "optim.SequentialLR"
	if opt == nil {
		argPanic(op, "nil Optimizer")
	}
	if len(schedules) == 0 {
		argPanic(op, "needs at least one schedule")
	}
	if len(milestones) != len(schedules)-1 {
		argPanic(op, fmt.Sprintf("got %d schedules and %d milestones; give one milestone fewer than schedules (the epoch each schedule after the first takes over)",
			len(schedules), len(milestones)))
	}
	q := &sequential{opt: opt, milestones: slices.Clone(milestones)}
	if msg := checkMilestones(q.milestones); msg != "" {
		argPanic(op, msg)
	}
	for i, sc := range schedules {
		s, ok := sc.(*schedule)
		switch {
		case !ok:
			argPanic(op, fmt.Sprintf("schedule %d is a %T; SequentialLR takes the schedules of this package (StepLR, LinearLR, LambdaLR, ...)", i, sc))
		case s.opt != opt:
			argPanic(op, fmt.Sprintf("schedule %d belongs to another optimizer; build every schedule on the optimizer given to SequentialLR", i))
		case slices.Contains(q.schedules, s):
			argPanic(op, fmt.Sprintf("schedule %d appears twice", i))
		}
		q.schedules = append(q.schedules, s)
	}
	opt.SetLR(initialLR(opt))
	for _, s := range q.schedules {
		s.lastEpoch--
	}
	q.schedules[0].Step()
	q.lastLR = q.schedules[0].LR()
	return q
}

// checkMilestones requires strictly increasing milestones from 1.
func checkMilestones(ms []int) string {
	for i, m := range ms {
		if m < 1 || m > maxStepCount || (i > 0 && m <= ms[i-1]) {
			return fmt.Sprintf("milestones %v must be strictly increasing epochs >= 1", ms)
		}
	}
	return ""
}

// Step implements Scheduler: the schedule in charge of the new epoch
// steps, or restarts when the epoch is its milestone.
func (q *sequential) Step() {
	q.lastEpoch++
	i := sort.SearchInts(q.milestones, q.lastEpoch+1) // bisect_right
	s := q.schedules[i]
	if i > 0 && q.milestones[i-1] == q.lastEpoch {
		s.stepTo(0)
	} else {
		s.Step()
	}
	q.lastLR = s.LR()
}

// LR implements Scheduler.
func (q *sequential) LR() float64 { return q.lastLR }

// LastEpoch implements Scheduler.
func (q *sequential) LastEpoch() int { return q.lastEpoch }

// String describes the schedules and milestones.
func (q *sequential) String() string {
	parts := make([]string, len(q.schedules))
	for i, s := range q.schedules {
		parts[i] = s.String()
	}
	return fmt.Sprintf("SequentialLR([%s], milestones=%v, last_epoch=%d)", strings.Join(parts, ", "), q.milestones, q.lastEpoch)
}

// state-dict keys of SequentialLR: its own counters and milestones
// ("milestones.<i>") and each schedule's scalars ("schedulers.<i>.<key>").
const (
	keyMilestones = "milestones."
	keySchedulers = "schedulers."
)

// StateDict implements Scheduler.
func (q *sequential) StateDict() StateDict {
	sd := StateDict{Kind: "SequentialLR", Scalars: map[string]float64{
		keyLastEpoch: float64(q.lastEpoch),
		keyLastLR:    q.lastLR,
	}}
	for i, m := range q.milestones {
		sd.Scalars[keyMilestones+strconv.Itoa(i)] = float64(m)
	}
	for i, s := range q.schedules {
		for k, v := range s.StateDict().Scalars {
			sd.Scalars[keySchedulers+strconv.Itoa(i)+"."+k] = v
		}
	}
	return sd
}

// LoadStateDict implements Scheduler: every schedule's state is checked
// (by its own LoadStateDict) before any changes.
func (q *sequential) LoadStateDict(sd StateDict) error {
	fail := scheduleFail("SequentialLR")
	if err := checkScheduleState(sd, "SequentialLR", nil); err != nil {
		return err
	}
	subs := make([]StateDict, len(q.schedules))
	for i, s := range q.schedules {
		subs[i] = StateDict{Kind: s.kind, Scalars: map[string]float64{}}
	}
	milestones := make([]int, len(q.milestones))
	seen := map[string]bool{}
	for _, k := range sortedKeys(sd.Scalars) {
		v := sd.Scalars[k]
		switch {
		case k == keyLastEpoch || k == keyLastLR:
		case strings.HasPrefix(k, keyMilestones):
			i, err := strconv.Atoi(strings.TrimPrefix(k, keyMilestones))
			if err != nil || i < 0 || i >= len(milestones) || float64(int(v)) != v {
				return fail("unexpected entry %q = %v (the schedule has %d milestones)", k, v, len(milestones))
			}
			milestones[i] = int(v)
		case strings.HasPrefix(k, keySchedulers):
			idx, key, ok := strings.Cut(strings.TrimPrefix(k, keySchedulers), ".")
			i, err := strconv.Atoi(idx)
			if !ok || err != nil || i < 0 || i >= len(subs) {
				return fail("unexpected entry %q (the schedule runs %d schedules)", k, len(subs))
			}
			subs[i].Scalars[key] = v
		default:
			return fail("unexpected entry %q", k)
		}
		seen[k] = true
	}
	for _, k := range []string{keyLastEpoch, keyLastLR} {
		if !seen[k] {
			return fail("no entry %q", k)
		}
	}
	for i := range milestones {
		if !seen[keyMilestones+strconv.Itoa(i)] {
			return fail("no entry %q", keyMilestones+strconv.Itoa(i))
		}
	}
	epoch := sd.Scalars[keyLastEpoch]
	msg := firstProblem(checkMilestones(milestones), wholeAtLeast(keyLastEpoch, epoch, 0), nonNegative(keyLastLR, sd.Scalars[keyLastLR]))
	if msg != "" {
		return fail("%s", msg)
	}
	before := make([]StateDict, len(q.schedules))
	for i, s := range q.schedules {
		before[i] = s.StateDict()
	}
	for i, s := range q.schedules {
		if err := s.LoadStateDict(subs[i]); err != nil {
			for j := range i {
				q.schedules[j].LoadStateDict(before[j])
			}
			return fmt.Errorf("%w (schedule %d of SequentialLR)", err, i)
		}
	}
	q.milestones, q.lastEpoch, q.lastLR = milestones, int(epoch), sd.Scalars[keyLastLR]
	return nil
}
