#!/usr/bin/env python3
"""The workloads of device/cuda's GPU benchmarks, in PyTorch, for a
side-by-side comparison (build/gpu/run.sh). Prints one line per workload:
"<name> <value> <unit>"."""
import time

import torch


def timed(f, iters, warmup=3):
    for _ in range(warmup):
        f()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(iters):
        f()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / iters


def main():
    dev = torch.device("cuda:0")
    print("# torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(dev))
    n = 64 << 20
    a = torch.rand(n, device=dev) * 2 - 1
    b = torch.rand(n, device=dev) * 2 - 1
    c = torch.empty(n, device=dev)
    s = timed(lambda: torch.add(a, b, out=c), 200)
    print("add_f32_64M %.1f GB/s" % (3 * 4 * n / s / 1e9))
    s = timed(lambda: c.copy_(a), 200)
    print("copy_f32_64M %.1f GB/s" % (2 * 4 * n / s / 1e9))
    out = torch.empty((), device=dev)
    s = timed(lambda: torch.sum(a, out=out), 200)
    print("sum_f32_64M %.1f GB/s" % (4 * n / s / 1e9))
    del a, b, c

    r = 8192
    x = torch.rand(r, r, device=dev) * 2 - 1
    s = timed(lambda: torch.softmax(x, dim=1), 100)
    print("softmax_8192 %.1f GB/s" % (2 * 4 * r * r / s / 1e9))
    del x

    n = 4096
    a = torch.rand(n, n, device=dev) * 2 - 1
    b = torch.rand(n, n, device=dev) * 2 - 1
    c = torch.empty(n, n, device=dev)
    for tf32 in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        s = timed(lambda: torch.matmul(a, b, out=c), 30)
        print("sgemm_4096_tf32_%s %.1f TFLOP/s" % ("on" if tf32 else "off", 2 * n ** 3 / s / 1e12))
    torch.backends.cuda.matmul.allow_tf32 = False
    del a, b, c

    # Host cost of one small op: allocation of the result and the launch.
    p = torch.rand(1, device=dev)
    q = torch.rand(1, device=dev)
    s = timed(lambda: torch.add(p, q), 20000, warmup=100)
    print("small_op %.2f us/op" % (s * 1e6))


if __name__ == "__main__":
    main()
