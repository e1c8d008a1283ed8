# Prints, as JSON, what PyTorch's CPU generator draws after
# torch.manual_seed(seed) for a fixed list of calls: the reference that
# tensor's TestTorchStreams checks nabla's generator against
# (torch_random.json is this script's output, committed because CI has
# no PyTorch; TestTorchStreamsRegenerate reruns it where PyTorch is
# installed and compares). Run with PyTorch 1.13 on x86-64 (AVX2):
#
#   python3 tensor/testdata/torch_random.py > tensor/testdata/torch_random.json
#
# Each case seeds the default generator, then runs its calls in order;
# each call records the values it drew (or, for large draws, the SHA-256
# of their little-endian bytes), and the case ends with the SHA-256 of
# torch.get_rng_state() (the first case also keeps the state, in base64).
import base64
import hashlib
import json
import sys

try:
    import torch
except ImportError as e:  # tells the Go test to skip
    print(e)
    sys.exit(97)

DT = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64,
      "uint8": torch.uint8, "bool": torch.bool}


def draw(c):
    op, dt = c["op"], DT[c.get("dtype", "float32")]
    shape = c.get("shape", [])
    if op == "rand":
        return torch.rand(shape, dtype=dt)
    if op == "randn":
        return torch.randn(shape, dtype=dt)
    if op == "uniform":
        return torch.empty(shape, dtype=dt).uniform_(c["lo"], c["hi"])
    if op == "normal":
        return torch.empty(shape, dtype=dt).normal_(c["mean"], c["std"])
    if op == "randint":
        return torch.randint(c["lo"], c["hi"], shape, dtype=dt)
    if op == "bernoulli":
        return torch.empty(shape, dtype=dt).bernoulli_(c["p"])
    if op == "randperm":
        return torch.randperm(c["n"])
    if op == "int63":
        return torch.empty((), dtype=torch.int64).random_()
    raise ValueError(op)


def record(c, t):
    out = dict(c)
    if t.numel() > 64:
        out["sha256"] = hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest()
        if t.dtype.is_floating_point:
            out["sum"] = float(t.double().sum())
    elif t.dtype == torch.int64:
        out["values"] = [str(v) for v in t.reshape(-1).tolist()]
    else:
        out["values"] = [float(v) if t.dtype.is_floating_point else int(v) for v in t.reshape(-1).tolist()]
    return out


CASES = [
    (0, [{"op": "randn", "shape": [3, 4]}]),
    (777, [{"op": "rand", "shape": [3]}, {"op": "randn", "shape": [2, 2]}]),
    # Fewer than 16: Box-Muller on doubles, one value at a time, the
    # second of each pair kept for the next draw (across calls).
    (1, [{"op": "randn", "shape": [3]}, {"op": "randn", "shape": [2]},
         {"op": "randn", "shape": [16]}, {"op": "randn", "shape": [1]},
         {"op": "randn", "shape": [1]}, {"op": "randn", "shape": [15], "dtype": "float64"}]),
    # 16 and more: blocks of 16, the tail of a length that is not a
    # multiple of 16 drawn again.
    (2, [{"op": "randn", "shape": [16]}, {"op": "randn", "shape": [17]},
         {"op": "randn", "shape": [5, 7]}, {"op": "normal", "shape": [40], "mean": 0.5, "std": 0.03},
         {"op": "randn", "shape": [33], "dtype": "float64"},
         {"op": "normal", "shape": [20], "mean": -1.5, "std": 2.0, "dtype": "float64"},
         {"op": "normal", "shape": [4], "mean": 3.0, "std": 0.25}]),
    (3, [{"op": "randn", "shape": [100003]}, {"op": "rand", "shape": [1000]}]),
    (4, [{"op": "randn", "shape": [10007], "dtype": "float64"}]),
    (5, [{"op": "uniform", "shape": [10], "lo": -0.7071067811865476, "hi": 0.7071067811865476},
         {"op": "uniform", "shape": [7], "lo": -0.7, "hi": 0.2, "dtype": "float64"},
         {"op": "rand", "shape": [5], "dtype": "float64"},
         {"op": "uniform", "shape": [100000], "lo": -0.3, "hi": 0.1}]),
    (6, [{"op": "randint", "shape": [12], "lo": 0, "hi": 10, "dtype": "int64"},
         {"op": "randint", "shape": [6], "lo": -3, "hi": 4, "dtype": "int64"},
         {"op": "randint", "shape": [6], "lo": -(1 << 40), "hi": 1 << 40, "dtype": "int64"},
         {"op": "randint", "shape": [5], "lo": 0, "hi": 1000, "dtype": "float64"},
         {"op": "randint", "shape": [5], "lo": 0, "hi": 256, "dtype": "uint8"},
         {"op": "randint", "shape": [5], "lo": 0, "hi": 2, "dtype": "bool"},
         {"op": "int63"}, {"op": "int63"}]),
    (7, [{"op": "randperm", "n": 10}, {"op": "randperm", "n": 1}, {"op": "randperm", "n": 0},
         {"op": "randperm", "n": 2}, {"op": "randperm", "n": 1000}]),
    # bernoulli_(p) with a float p: PyTorch builds without MKL (this one)
    # compare a uniform double with p; MKL builds draw with MKL instead.
    (8, [{"op": "bernoulli", "shape": [20], "p": 0.3},
         {"op": "bernoulli", "shape": [6], "p": 0.5, "dtype": "float64"},
         {"op": "bernoulli", "shape": [6], "p": 0.5, "dtype": "bool"}]),
    # The seed's low 32 bits make the state; the whole seed is kept.
    ((1 << 40) + 5, [{"op": "rand", "shape": [3]}]),
    (67280421310721, [{"op": "rand", "shape": [3]}, {"op": "randn", "shape": [1]}]),
]


def main():
    cases = []
    for k, (seed, calls) in enumerate(CASES):
        torch.manual_seed(seed)
        case = {"seed": str(seed), "calls": [record(c, draw(c)) for c in calls]}
        state = torch.get_rng_state().numpy().tobytes()
        case["state_sha256"] = hashlib.sha256(state).hexdigest()
        if k == 0:
            case["state"] = base64.b64encode(state).decode()
        cases.append(case)
    # One call per line, so that a change shows in a diff.
    w = sys.stdout.write
    w('{"torch": %s, "cases": [\n' % json.dumps(torch.__version__.split("+")[0]))
    for k, case in enumerate(cases):
        w(' {"seed": %s, "calls": [\n' % json.dumps(case["seed"]))
        w(",\n".join("  " + json.dumps(c) for c in case["calls"]))
        w('],\n  "state_sha256": %s' % json.dumps(case["state_sha256"]))
        if "state" in case:
            w(',\n  "state": %s' % json.dumps(case["state"]))
        w("}" + ("," if k < len(cases) - 1 else "") + "\n")
    w("]}\n")


if __name__ == "__main__":
    main()
