# Times nabla's benchmark workloads in PyTorch. Reads a JSON request
# {"workloads": [...], "device": "cpu"|"cuda:N", "threads": N, "min_time": seconds,
#  "train": {"images": IDX file, "labels": IDX file, "n": N, "lr": 1e-3,
#            "runs": [{"model": "mlp"|"cnn", "batch": B, "warmup": samples}, ...]}}
# ("train" optional) on stdin and prints {"version", "threads", "seconds":
# {name: median seconds}, "train": [{"model", "batch", "seconds", "steps",
# "peak_allocated", "peak_reserved"}, ...], "train_note": text}; the peaks
# are bytes on CUDA and null elsewhere.
import gc, gzip, json, statistics, struct, sys, time
import numpy as np
import torch

req = json.load(sys.stdin)
dev = torch.device(req["device"])
torch.set_num_threads(req["threads"])
# Full float32 arithmetic, as nabla's default: no TF32 in matrix products
# (PyTorch's default too) nor in cuDNN's convolutions (on by default).
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()

def time_it(f, min_time=req.get("min_time", 1.0)):
    f(); sync()
    runs, start = [], time.perf_counter()
    while len(runs) < 3 or time.perf_counter() - start < min_time:
        t0 = time.perf_counter(); f(); sync()
        runs.append(time.perf_counter() - t0)
        if len(runs) >= 100_000:  # as benchMaxRuns in bench.go
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

def make_model(name):
    """nabla's models.MLP or models.CNN (without dropout), layer for layer."""
    nn = torch.nn
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
            nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    raise ValueError("unknown model %r" % name)

TRAIN_NOTE = ("  PyTorch: the images in one float32 tensor in host memory; each step gathers its batch\n"
              "  there%s and copies it with .to(device, non_blocking=True); TF32 off, as nabla's default")

def train_run(x, y, run, lr):
    """One row of the training table: the workload of nabla's trainBench.run.

    The data stays in host memory, as with nabla's data.Loader and
    ToDevice: every step gathers its batch from a CPU tensor (one indexing
    per batch, not the per-sample Dataset of a default DataLoader, which
    would time Python rather than PyTorch), pins it on CUDA and copies it
    with non_blocking=True, which is what DataLoader(pin_memory=True) does
    with each batch.
    The loss is summed on the device and read once at the end of the
    epoch, as nabla's models.TrainEpoch does: no .item() per step."""
    n, batch = x.shape[0], run["batch"]
    torch.manual_seed(1)
    model = make_model(run["model"]).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    pin = dev.type == "cuda"
    gen = torch.Generator().manual_seed(2)

    def epoch(count, shuffle):
        order = torch.randperm(count, generator=gen) if shuffle else torch.arange(count)
        total = torch.zeros((), dtype=torch.float64, device=dev)
        steps = 0
        for i in range(0, count, batch):
            idx = order[i:i + batch]
            xb, yb = x[idx], y[idx]
            if pin:
                xb, yb = xb.pin_memory(), yb.pin_memory()
            xb, yb = xb.to(dev, non_blocking=True), yb.to(dev, non_blocking=True)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.detach().double()
            steps += 1
        return total.item() / steps, steps

    epoch(run["warmup"], False)  # a full epoch: every batch shape, and the optimizer state aged as in a real run
    sync()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    t0 = time.perf_counter()
    _, steps = epoch(n, True)
    sync()
    seconds = time.perf_counter() - t0
    out = {"model": run["model"], "batch": batch, "seconds": seconds, "steps": steps,
           "peak_allocated": None, "peak_reserved": None}
    if dev.type == "cuda":
        out["peak_allocated"] = torch.cuda.max_memory_allocated(dev)
        out["peak_reserved"] = torch.cuda.max_memory_reserved(dev)
    return out

def train_runs(spec):
    """Every run of the request, each from an empty allocator cache."""
    n = spec["n"]
    images = read_idx(spec["images"])[:n]
    labels = read_idx(spec["labels"])[:n]
    x = torch.from_numpy(images.astype(np.float32) / 255).reshape(n, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))
    results = []
    for run in spec["runs"]:
        gc.collect()
        if dev.type == "cuda":
            torch.cuda.empty_cache()
        results.append(train_run(x, y, run, spec["lr"]))
    return results

def time_workloads(names):
    """Median seconds per workload. Its tensors die with this function, so
    that none of them counts in the training runs' peak memory."""
    seconds = {}
    for name in names:
        f = setup(name)
        if f is not None:
            seconds[name] = time_it(f)
    return seconds

result = {"version": torch.__version__, "threads": torch.get_num_threads(),
          "seconds": time_workloads(req["workloads"])}
if req.get("train"):
    result["train"] = train_runs(req["train"])
    result["train_note"] = TRAIN_NOTE % (", pins it" if dev.type == "cuda" else "")
json.dump(result, sys.stdout)
