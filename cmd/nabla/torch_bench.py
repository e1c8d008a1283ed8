# Times nabla's benchmark workloads in PyTorch. Reads a JSON request
# {"workloads": [...], "device": "cpu"|"cuda:N", "threads": N, "min_time": seconds,
#  "mlp": {"images": IDX file, "labels": IDX file, "n": N, "batch": 64, "lr": 1e-3}}
# ("mlp" optional) on stdin and prints {"version", "threads", "seconds":
# {name: median seconds}, "mlp_epoch_seconds": seconds of one MLP epoch}.
import gzip, json, statistics, struct, sys, time
import numpy as np
import torch

req = json.load(sys.stdin)
dev = torch.device(req["device"])
torch.set_num_threads(req["threads"])
torch.backends.cuda.matmul.allow_tf32 = False

def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()

def time_it(f, min_time=req.get("min_time", 1.0)):
    f(); sync()
    runs, start = [], time.perf_counter()
    while len(runs) < 3 or time.perf_counter() - start < min_time:
        t0 = time.perf_counter(); f(); sync()
        runs.append(time.perf_counter() - t0)
        if len(runs) >= 100:
            break
    return statistics.median(runs)

def setup(name):
    kind, _, size = name.partition("_")
    if kind == "matmul":
        n = int(size)
        a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
        return lambda: a @ b
    if kind in ("add", "exp", "sum"):
        n = int(size.rstrip("M")) << 20
        x, y = torch.randn(n, device=dev), torch.randn(n, device=dev)
        return {"add": lambda: x + y, "exp": lambda: torch.exp(x), "sum": lambda: x.sum()}[kind]
    if kind == "softmax":
        r, c = map(int, size.split("x"))
        x = torch.randn(r, c, device=dev)
        return lambda: torch.softmax(x, 1)
    return None

def read_idx(path):
    """An IDX file (gzip-compressed or not) as a numpy array."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

def mlp_epoch(spec):
    """Seconds of one training epoch of nabla's MLP (models.MLP): the same
    784-256-128-10 network, Adam, batch size, shuffling every epoch and a
    loss.item() per step, as nabla's models.TrainEpoch does."""
    n, batch = spec["n"], spec["batch"]
    images = read_idx(spec["images"])[:n]
    labels = read_idx(spec["labels"])[:n]
    x = torch.from_numpy(images.astype(np.float32) / 255).reshape(n, 1, 28, 28).to(dev)
    y = torch.from_numpy(labels.astype(np.int64)).to(dev)
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(count):
        perm = torch.randperm(count, device=dev)
        total = 0.0
        for i in range(0, count, batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item()
        return total

    epoch(min(n, 640))  # warm-up, as nabla's
    sync()
    t0 = time.perf_counter()
    epoch(n)
    sync()
    return time.perf_counter() - t0

seconds = {}
for name in req["workloads"]:
    f = setup(name)
    if f is not None:
        seconds[name] = time_it(f)
result = {"version": torch.__version__, "threads": torch.get_num_threads(), "seconds": seconds}
if req.get("mlp"):
    result["mlp_epoch_seconds"] = mlp_epoch(req["mlp"])
json.dump(result, sys.stdout)
