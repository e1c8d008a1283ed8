package nn_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/autograd"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/tensor"
)

// The numbers in this file were printed by PyTorch 1.13 running
// testdata/torch_reference.py; the comments repeat the torch expressions.
// CI has no torch, so they are constants.

// seq is the script's seq: sin(arange(n)·a + b)·scale + shift, Float64.
func seq(shape []int, a, b, scale, shift float64) *tensor.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return tensor.Of(tensor.Float64).Arange(0, float64(n), 1).Mul(a).Add(b).Sin().Mul(scale).Add(shift).Reshape(shape...)
}

// checksum is the script's checksum: the sum, the sum of squares and the
// sum weighted by sin(0.91k + 0.2) of the flattened elements.
func checksum(t *tensor.Tensor) [3]float64 {
	var s [3]float64
	for k, v := range t.Contiguous().Float64s() {
		s[0] += v
		s[1] += v * v
		s[2] += v * math.Sin(float64(k)*0.91+0.2)
	}
	return s
}

func requireChecksum(t *testing.T, want [3]float64, got *tensor.Tensor, msg string) {
	t.Helper()
	c := checksum(got)
	for i := range want {
		require.InDelta(t, want[i], c[i], 1e-9*(1+math.Abs(want[i])), "%s: checksum %d: want %v, got %v", msg, i, want, c)
	}
}

func requireValues(t *testing.T, want []float64, got *tensor.Tensor, msg string) {
	t.Helper()
	g := got.Contiguous().Float64s()
	require.Len(t, g, len(want), msg)
	for i := range want {
		require.InDelta(t, want[i], g[i], 1e-9*(1+math.Abs(want[i])), "%s: element %d: want %v, got %v", msg, i, want, g)
	}
}

func TestConv2dMatchesTorch(t *testing.T) {
	// x = seq((2,3,6,7), 0.37, 0.1); w = seq((4,3,3,3), 0.71, 0.3, 0.5); b = seq((4,), 1.3, 0.0, 0.1)
	x := autograd.Const(seq([]int{2, 3, 6, 7}, 0.37, 0.1, 1, 0))
	cases := []struct {
		name  string
		opts  []nn.Option
		shape []int
		want  [3]float64
	}{
		// F.conv2d(x, w, b)
		{"default", nil, []int{2, 4, 4, 5}, [3]float64{1.4533730521955448, 220.10001135285574, 17.014334337815573}},
		// F.conv2d(x, w, b, stride=2, padding=1)
		{"stride 2 padding 1", []nn.Option{nn.Stride(2), nn.Padding(1)}, []int{2, 4, 3, 4},
			[3]float64{-10.046240395518344, 82.55372519888081, -0.5703723551107737}},
		// F.conv2d(x, w, b, stride=(2,1), padding=(1,2), dilation=(2,1))
		{"rect", []nn.Option{nn.StrideHW(2, 1), nn.PaddingHW(1, 2), nn.DilationHW(2, 1)}, []int{2, 4, 2, 9},
			[3]float64{3.7216075459398272, 65.28263915568962, -4.279712386177465}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conv := nn.Conv2d(3, 4, 3, c.opts...)
			nn.Cast(conv, tensor.Float64)
			conv.Weight.Detach().CopyFrom(seq([]int{4, 3, 3, 3}, 0.71, 0.3, 0.5, 0))
			conv.Bias.Detach().CopyFrom(seq([]int{4}, 1.3, 0, 0.1, 0))
			y := conv.Forward(x)
			require.Equal(t, c.shape, y.Shape())
			requireChecksum(t, c.want, y.Detach(), c.name)
		})
	}
}

func TestPoolingMatchesTorch(t *testing.T) {
	// p = seq((2,3,7,6), 0.53, 0.7)
	p := autograd.Const(seq([]int{2, 3, 7, 6}, 0.53, 0.7, 1, 0))
	cases := []struct {
		name  string
		m     nn.Module
		shape []int
		want  [3]float64
	}{
		// F.max_pool2d(p, 2)
		{"max 2", nn.MaxPool2d(2, 0), []int{2, 3, 3, 3}, [3]float64{42.10064194000308, 35.77292258126384, 0.5371155411718239}},
		// F.max_pool2d(p, 3, 2, 1)
		{"max 3 s2 p1", nn.MaxPool2d(3, 2, nn.Padding(1)), []int{2, 3, 4, 3}, [3]float64{62.51627432580119, 55.960508238586456, 1.7293023208945135}},
		// F.avg_pool2d(p, 2)
		{"avg 2", nn.AvgPool2d(2, 2), []int{2, 3, 3, 3}, [3]float64{-0.027295522726805785, 0.009208036808183101, 0.026671140541206416}},
		// F.avg_pool2d(p, 3, 1, 1)
		{"avg 3 s1 p1", nn.AvgPool2d(3, 1, nn.Padding(1)), []int{2, 3, 7, 6}, [3]float64{0.8287704922168408, 6.080294295677773, 0.3139547749794218}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y := c.m.Forward(p)
			require.Equal(t, c.shape, y.Shape())
			requireChecksum(t, c.want, y.Detach(), c.name)
		})
	}
}

func TestBatchNormMatchesTorch(t *testing.T) {
	// bn = nn.BatchNorm2d(C).double() (or BatchNorm1d); weight = seq((C,), 0.5, 1, 0.5, 1);
	// bias = seq((C,), 0.8, 0.3, 0.1); in training mode, step k = 0, 1, 2 calls
	// bn(seq(shape, 0.37+0.1k, 0.2k, 1+k, 0.5k)); the output of the last step,
	// the running statistics after it, and bn.eval()(seq(shape, 0.37, 0)) are compared.
	cases := []struct {
		name            string
		m               *nn.BatchNormModule
		shape           []int
		train, eval     [3]float64
		runMean, runVar []float64
	}{
		{"bn2d", nn.BatchNorm2d(3), []int{2, 3, 4, 5},
			[3]float64{8.532110617640749, 255.9397118896941, 1.4251879897499449},
			[3]float64{-12.839065785859727, 91.00197135079355, 0.5188124997496799},
			[]float64{0.1398731743852572, 0.14612681785141973, 0.15145287092760765},
			[]float64{1.424149860766814, 1.389630740366409, 1.4485102663266378}},
		{"bn1d 2-D", nn.BatchNorm1d(4), []int{5, 4},
			[3]float64{1.2802037673220106, 40.44164951609821, 0.682227423165882},
			[3]float64{-2.200693231719275, 11.93597136686049, -1.214014482357574},
			[]float64{0.21049823438938398, 0.21506548503985762, 0.20216185382149648, 0.1767537101501282},
			[]float64{1.4084223335229678, 1.535117797840145, 1.6635604577768248, 1.6462526966444635}},
		{"bn1d 3-D", nn.BatchNorm1d(3), []int{4, 3, 2},
			[3]float64{1.7064221235281511, 51.18789044336735, 3.9164404090764195},
			[3]float64{2.0062207618235273, 17.01535818765972, 0.3335519305914943},
			[]float64{0.1620348203984192, 0.20479093475584897, 0.19597039611072026},
			[]float64{1.5477482476453606, 1.5935231159051102, 1.286183811159197}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := c.m
			nn.Cast(m, tensor.Float64)
			ch := c.shape[1]
			m.Weight.Detach().CopyFrom(seq([]int{ch}, 0.5, 1, 0.5, 1))
			m.Bias.Detach().CopyFrom(seq([]int{ch}, 0.8, 0.3, 0.1, 0))
			var y *autograd.Var
			for k := range 3 {
				fk := float64(k)
				y = m.Forward(autograd.Const(seq(c.shape, 0.37+0.1*fk, 0.2*fk, 1+fk, 0.5*fk)))
			}
			requireChecksum(t, c.train, y.Detach(), "train")
			requireValues(t, c.runMean, m.RunningMean.Detach(), "running_mean")
			requireValues(t, c.runVar, m.RunningVar.Detach(), "running_var")
			require.Equal(t, []int64{3}, m.NumBatchesTracked.Detach().Reshape(1).Int64s())
			require.Equal(t, tensor.Int64, m.NumBatchesTracked.DType())
			m.Eval()
			requireChecksum(t, c.eval, m.Forward(autograd.Const(seq(c.shape, 0.37, 0, 1, 0))).Detach(), "eval")
			// Evaluation leaves the running statistics alone.
			requireValues(t, c.runMean, m.RunningMean.Detach(), "running_mean after eval")
		})
	}
}

func TestLossesMatchTorch(t *testing.T) {
	// inp = seq((3,4), 0.37, 0.1, 2.0); tgt = seq((3,4), 0.59, 0.4)
	// prob = torch.sigmoid(inp); tprob = (tgt + 1) / 2
	// logits = seq((4,5), 0.43, 0.2, 3.0); labels = torch.tensor([2, 0, 4, 1])
	// kd = seq((2,3,2,2), 0.61, 0.5, 2.0); kdl = torch.tensor([[[0,2],[1,1]],[[2,0],[0,1]]])
	inp := seq([]int{3, 4}, 0.37, 0.1, 2, 0)
	tgt := seq([]int{3, 4}, 0.59, 0.4, 1, 0)
	prob, tprob := inp.Sigmoid(), tgt.Add(1).Div(2)
	logits := seq([]int{4, 5}, 0.43, 0.2, 3, 0)
	labels := tensor.FromSlice([]int64{2, 0, 4, 1})
	kd := seq([]int{2, 3, 2, 2}, 0.61, 0.5, 2, 0)
	kdl := tensor.FromSlice([]int64{0, 2, 1, 1, 2, 0, 0, 1}, 2, 2, 2)
	c := autograd.Const

	type lossCase struct {
		name       string
		loss       func(nn.Reduction) nn.Loss
		input, tgt *tensor.Tensor
		mean, sum  float64
		none       []float64
	}
	cases := []lossCase{
		// F.mse_loss(inp, tgt, reduction=...)
		{"mse", func(r nn.Reduction) nn.Loss { return nn.MSELoss(r) }, inp, tgt, 2.0339971721760226, 24.407966066112273,
			[]float64{0.03600563517346743, 0.004864587117600826, 0.23944247236088376, 1.0929594507203733, 2.64880915564242, 4.263487420840459, 4.755489375235887, 3.4455205828020072, 1.1687226760381364, 0.0007043931110070213, 1.5389138928404877, 5.213046424229544}},
		// F.l1_loss(inp, tgt, reduction=...)
		{"l1", func(r nn.Reduction) nn.Loss { return nn.L1Loss(r) }, inp, tgt, 1.1795738092215375, 14.15488571065845,
			[]float64{0.1897515090149942, 0.06974659215761603, 0.4893285934429785, 1.0454470100011637, 1.6275162535724244, 2.064821401681138, 2.1807084571844735, 1.8562113518675634, 1.0810747781898051, 0.026540405253255295, 1.2405296823697882, 2.2832096759232483}},
		// F.binary_cross_entropy(prob, tprob, reduction=...)
		{"bce", func(r nn.Reduction) nn.Loss { return nn.BCELoss(r) }, prob, tprob, 0.8352772096830376, 10.023326516196452,
			[]float64{0.6592453164725551, 0.413750316851329, 0.2034078588032959, 0.3061752337605097, 0.7545124882187454, 1.2661263615963663, 1.4646800127180895, 1.2146525921282736, 0.7712895295719951, 0.5788150853067042, 0.8799882750044689, 1.5106834457641185}},
		// F.binary_cross_entropy_with_logits(inp, tprob, reduction=...)
		{"bce with logits", func(r nn.Reduction) nn.Loss { return nn.BCEWithLogitsLoss(r) }, inp, tprob, 0.8352772096830376, 10.023326516196452,
			[]float64{0.659245316472555, 0.413750316851329, 0.20340785880329584, 0.3061752337605096, 0.7545124882187455, 1.2661263615963665, 1.464680012718089, 1.2146525921282738, 0.7712895295719951, 0.5788150853067042, 0.8799882750044687, 1.5106834457641185}},
		// F.cross_entropy(logits, labels, reduction=...)
		{"cross entropy", func(r nn.Reduction) nn.Loss { return nn.CrossEntropyLoss(r) }, logits, labels, 1.059552297744801, 4.238209190979204,
			[]float64{1.4436368322591375, 0.39016525248702183, 0.4262090457667885, 1.9781980604662563}},
		// F.nll_loss(F.log_softmax(logits, 1), labels, reduction=...)
		{"nll", func(r nn.Reduction) nn.Loss { return nn.NLLLoss(r) }, logits.LogSoftmax(1), labels, 1.059552297744801, 4.238209190979204,
			[]float64{1.4436368322591375, 0.39016525248702183, 0.4262090457667885, 1.9781980604662563}},
		// F.cross_entropy(kd, kdl, reduction=...)
		{"cross entropy k-dim", func(r nn.Reduction) nn.Loss { return nn.CrossEntropyLoss(r) }, kd, kdl, 2.2587029302721353, 18.069623442177082,
			[]float64{0.501884433729909, 2.525449792498805, 3.9297146659811677, 4.232310018386821, 1.921030034895582, 0.5592812252176838, 1.4834732963106063, 2.916479975156509}},
	}
	for _, lc := range cases {
		t.Run(lc.name, func(t *testing.T) {
			requireValues(t, []float64{lc.mean}, lc.loss(nn.Mean)(c(lc.input), c(lc.tgt)).Detach(), "mean")
			requireValues(t, []float64{lc.sum}, lc.loss(nn.Sum)(c(lc.input), c(lc.tgt)).Detach(), "sum")
			requireValues(t, lc.none, lc.loss(nn.None)(c(lc.input), c(lc.tgt)).Detach(), "none")
			// Mean is the default.
			def := map[string]nn.Loss{"mse": nn.MSELoss(), "l1": nn.L1Loss(), "bce": nn.BCELoss(), "bce with logits": nn.BCEWithLogitsLoss(),
				"cross entropy": nn.CrossEntropyLoss(), "nll": nn.NLLLoss(), "cross entropy k-dim": nn.CrossEntropyLoss()}[lc.name]
			requireValues(t, []float64{lc.mean}, def(c(lc.input), c(lc.tgt)).Detach(), "default")
		})
	}
}
