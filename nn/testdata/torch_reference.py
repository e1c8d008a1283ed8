# Prints the PyTorch reference numbers pasted into nn/torch_reference_test.go.
# Run with a Python 3 that has torch (tested with torch 1.13):
#   python3 nn/testdata/torch_reference.py
# Inputs are closed-form (sines of an arange) so the Go test rebuilds them
# exactly; outputs are compared through checksums: the sum, the sum of
# squares and a sum weighted by sin(0.91*k + 0.2) over the flattened index k,
# which catches misplaced elements as well as wrong values.
import torch, torch.nn as nn, torch.nn.functional as F

def seq(shape, a, b, scale=1.0, shift=0.0):
    n = 1
    for d in shape:
        n *= d
    return (torch.sin(torch.arange(n, dtype=torch.float64) * a + b) * scale + shift).reshape(shape)

def f(v):
    return repr(float(v))

def checksum(y):
    y = y.detach().flatten()
    w = torch.sin(torch.arange(y.numel(), dtype=torch.float64) * 0.91 + 0.2)
    return "{%s, %s, %s}" % (f(y.sum()), f((y * y).sum()), f((y * w).sum()))

def vec(t):
    return "[]float64{" + ", ".join(f(v) for v in t.detach().flatten().tolist()) + "}"

x = seq((2, 3, 6, 7), 0.37, 0.1)
w = seq((4, 3, 3, 3), 0.71, 0.3, 0.5)
b = seq((4,), 1.3, 0.0, 0.1)
print("// conv: x = seq([2 3 6 7], 0.37, 0.1), w = seq([4 3 3 3], 0.71, 0.3, 0.5), b = seq([4], 1.3, 0, 0.1)")
for name, kw in [("default", {}), ("stride 2 padding 1", dict(stride=2, padding=1)),
                 ("stride (2,1) padding (1,2) dilation (2,1)", dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1)))]:
    y = F.conv2d(x, w, b, **kw)
    print("conv", name, list(y.shape), checksum(y))

p = seq((2, 3, 7, 6), 0.53, 0.7)
print("// pools: p = seq([2 3 7 6], 0.53, 0.7)")
for name, fn in [("max 2", lambda t: F.max_pool2d(t, 2)), ("max 3 s2 p1", lambda t: F.max_pool2d(t, 3, 2, 1)),
                 ("avg 2", lambda t: F.avg_pool2d(t, 2)), ("avg 3 s1 p1", lambda t: F.avg_pool2d(t, 3, 1, 1))]:
    y = fn(p)
    print("pool", name, list(y.shape), checksum(y))

def bn_run(bn, shape):
    bn = bn.double()
    c = shape[1]
    with torch.no_grad():
        bn.weight.copy_(seq((c,), 0.5, 1.0, 0.5, 1.0))
        bn.bias.copy_(seq((c,), 0.8, 0.3, 0.1))
    bn.train()
    outs = []
    for k in range(3):
        xk = seq(shape, 0.37 + 0.1 * k, 0.2 * k, 1.0 + k, 0.5 * k)
        outs.append(bn(xk))
    print("  train step 3 out", checksum(outs[-1]))
    print("  running_mean", vec(bn.running_mean))
    print("  running_var", vec(bn.running_var))
    print("  num_batches_tracked", bn.num_batches_tracked.item())
    bn.eval()
    print("  eval out", checksum(bn(seq(shape, 0.37, 0.0))))

print("// batch norm: weight = seq([C], 0.5, 1, 0.5, 1), bias = seq([C], 0.8, 0.3, 0.1);")
print("// step k = 0, 1, 2 feeds seq(shape, 0.37+0.1k, 0.2k, 1+k, 0.5k) in training mode; eval feeds seq(shape, 0.37, 0)")
print("bn2d [2 3 4 5]"); bn_run(nn.BatchNorm2d(3), (2, 3, 4, 5))
print("bn1d [5 4]"); bn_run(nn.BatchNorm1d(4), (5, 4))
print("bn1d [4 3 2]"); bn_run(nn.BatchNorm1d(3), (4, 3, 2))

inp = seq((3, 4), 0.37, 0.1, 2.0)
tgt = seq((3, 4), 0.59, 0.4)
prob = torch.sigmoid(inp)
tprob = (tgt + 1) / 2
logits = seq((4, 5), 0.43, 0.2, 3.0)
labels = torch.tensor([2, 0, 4, 1])
kd = seq((2, 3, 2, 2), 0.61, 0.5, 2.0)
kdl = torch.tensor([[[0, 2], [1, 1]], [[2, 0], [0, 1]]])
print("// losses: inp = seq([3 4], 0.37, 0.1, 2), tgt = seq([3 4], 0.59, 0.4); BCE uses sigmoid(inp) and (tgt+1)/2;")
print("// logits = seq([4 5], 0.43, 0.2, 3), labels [2 0 4 1]; kd = seq([2 3 2 2], 0.61, 0.5, 2), kdl [[[0 2] [1 1]] [[2 0] [0 1]]]")
for red in ["mean", "sum", "none"]:
    print("reduction", red)
    print("  mse", vec(F.mse_loss(inp, tgt, reduction=red)))
    print("  l1", vec(F.l1_loss(inp, tgt, reduction=red)))
    print("  bce", vec(F.binary_cross_entropy(prob, tprob, reduction=red)))
    print("  bcelogits", vec(F.binary_cross_entropy_with_logits(inp, tprob, reduction=red)))
    print("  ce", vec(F.cross_entropy(logits, labels, reduction=red)))
    print("  nll", vec(F.nll_loss(F.log_softmax(logits, 1), labels, reduction=red)))
    print("  ce kd", vec(F.cross_entropy(kd, kdl, reduction=red)))
