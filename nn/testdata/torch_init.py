# Prints, as JSON, the parameters PyTorch 1.13 initialises after
# torch.manual_seed: the reference for nn's TestInitMatchesTorch
# (torch_init.json is this script's output, committed because CI has no
# PyTorch; TestInitReferenceRegenerate reruns it where PyTorch is
# installed and compares). Run with PyTorch 1.13 on x86-64 (AVX2):
#
#   python3 nn/testdata/torch_init.py > nn/testdata/torch_init.json
#
# Each case seeds the default generator and then builds modules or runs
# initialisers in order; every resulting tensor is recorded (its values,
# or the SHA-256 of its little-endian bytes and its sum when large).
import hashlib
import json
import math
import sys

try:
    import torch
    from torch import nn
except ImportError as e:  # tells the Go test to skip
    print(e)
    sys.exit(97)


def record(name, t):
    t = t.detach().contiguous()
    out = {"name": name, "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")}
    if t.numel() > 64:
        out["sha256"] = hashlib.sha256(t.numpy().tobytes()).hexdigest()
        out["sum"] = float(t.double().sum())
    else:
        out["values"] = [float(v) for v in t.reshape(-1).tolist()]
    return out


def modules(spec):
    out = []
    for k, m in enumerate(spec):
        for name, p in m.named_parameters():
            out.append(record("%d.%s" % (k, name), p))
    return out


def inits(spec):
    out = []
    for k, (fn, shape, dtype, kwargs) in enumerate(spec):
        t = torch.empty(shape, dtype=getattr(torch, dtype))
        getattr(nn.init, fn)(t, **kwargs)
        r = record("%d.%s" % (k, fn), t)
        r["init"], r["args"] = fn, kwargs
        out.append(r)
    return out


def main():
    cases = []
    # The XOR network of the course.
    torch.manual_seed(777)
    cases.append({"seed": 777, "what": "xor", "tensors": modules(
        [nn.Linear(2, 10), nn.Linear(10, 10), nn.Linear(10, 10), nn.Linear(10, 1)])})
    # The layers of the Fashion-MNIST models: kaiming_uniform_(a=√5) on
    # the weight, then the bias in ±1/√fan_in.
    torch.manual_seed(0)
    cases.append({"seed": 0, "what": "layers", "tensors": modules(
        [nn.Conv2d(1, 32, 3, padding=1), nn.Conv2d(3, 4, 2, bias=False), nn.Linear(784, 256),
         nn.Linear(5, 3, bias=False), nn.Linear(7, 2)])})
    torch.manual_seed(1)
    cases.append({"seed": 1, "what": "init", "tensors": inits([
        ("uniform_", [4, 6], "float32", {"a": -0.5, "b": 0.3}),
        ("normal_", [3, 5], "float32", {"mean": 0.2, "std": 1.5}),
        ("normal_", [8, 8], "float32", {"mean": 0.0, "std": 0.02}),
        ("normal_", [2, 2], "float32", {"mean": 0.0, "std": 1.0}),
        ("xavier_uniform_", [7, 9], "float32", {}),
        ("xavier_uniform_", [10, 3], "float32", {"gain": nn.init.calculate_gain("tanh")}),
        ("xavier_normal_", [20, 30], "float32", {}),
        ("xavier_normal_", [3, 4], "float32", {"gain": 0.5}),
        ("kaiming_uniform_", [16, 8], "float32", {}),
        ("kaiming_uniform_", [5, 4, 3, 3], "float32", {"mode": "fan_out", "nonlinearity": "relu"}),
        ("kaiming_uniform_", [6, 6], "float32", {"a": math.sqrt(5)}),
        ("kaiming_normal_", [30, 20], "float32", {}),
        ("kaiming_normal_", [3, 4], "float32", {"a": 0.1, "mode": "fan_out"}),
        ("kaiming_uniform_", [6, 6], "float64", {}),
        ("uniform_", [5], "float64", {"a": -2.0, "b": 3.0}),
        ("normal_", [40], "float64", {"mean": 1.0, "std": 0.5}),
    ])})
    w = sys.stdout.write
    w('{"torch": %s, "cases": [\n' % json.dumps(torch.__version__.split("+")[0]))
    for k, case in enumerate(cases):
        w(' {"seed": %d, "what": %s, "tensors": [\n' % (case["seed"], json.dumps(case["what"])))
        w(",\n".join("  " + json.dumps(t) for t in case["tensors"]))
        w("]}" + ("," if k < len(cases) - 1 else "") + "\n")
    w("]}\n")


if __name__ == "__main__":
    main()
