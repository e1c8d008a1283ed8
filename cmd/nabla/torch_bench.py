# Times nabla's benchmark workloads in PyTorch. Reads a JSON request
# {"workloads": [...], "device": "cpu"|"cuda:N", "threads": N} on stdin and
# prints {"version", "threads", "seconds": {name: median seconds}}.
import json, statistics, sys, time
import torch

req = json.load(sys.stdin)
dev = torch.device(req["device"])
torch.set_num_threads(req["threads"])
torch.backends.cuda.matmul.allow_tf32 = False

def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()

def time_it(f, min_time=1.0):
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

seconds = {}
for name in req["workloads"]:
    f = setup(name)
    if f is not None:
        seconds[name] = time_it(f)
json.dump({"version": torch.__version__, "threads": torch.get_num_threads(), "seconds": seconds}, sys.stdout)
