# PyTorch side of the nn interop tests, with a hand-written safetensors
# reader and writer (8-byte little-endian header length, JSON header, raw
# little-endian data), so it needs torch and numpy but not the safetensors
# module. Tested with torch 1.13.
#
#   python3 torch_interop.py make DIR
#       builds the reference model (seeded), runs three training-mode
#       forward passes so BatchNorm's running statistics move, and writes
#       DIR/torch_model.safetensors (its state dict) and
#       DIR/torch_model_io.safetensors ("input" and the eval-mode "output").
#       nn/testdata holds the files this wrote; regenerate them with
#       python3 nn/testdata/torch_interop.py make nn/testdata
#
#   python3 torch_interop.py check MODEL IO
#       loads the state dict MODEL (written by nabla) into the reference
#       architecture with load_state_dict(strict=True) and prints, as JSON,
#       the eval-mode output for IO's "input", plus the state dict's keys.
#
#   python3 torch_interop.py both DIR MODEL
#       make DIR, then check MODEL against DIR/torch_model_io.safetensors,
#       in one run (importing torch takes seconds).
#
# It exits with status 97 when torch or numpy cannot be imported.
import json, struct, sys
try:
    import numpy as np
    import torch, torch.nn as nn
except ImportError as e:
    print(e)
    sys.exit(97)

CODES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.bool: "BOOL", torch.uint8: "U8"}
NP = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "BOOL": "|b1", "U8": "|u1"}

def model():
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8, 3))

def write(path, tensors):
    header, data, off = {"__metadata__": {"format": "pt"}}, b"", 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": CODES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)

def read(path):
    buf = open(path, "rb").read()
    n = struct.unpack("<Q", buf[:8])[0]
    header = json.loads(buf[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        arr = np.frombuffer(buf[8 + n + b:8 + n + e], dtype=NP[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out

def make(d):
    torch.manual_seed(1234)
    m = model()
    m.train()
    for k in range(3):
        m(torch.randn(4, 1, 4, 4) * (1 + k) + 0.5 * k)
    m.eval()
    x = torch.randn(2, 1, 4, 4)
    with torch.no_grad():
        y = m(x)
    write(d + "/torch_model.safetensors", m.state_dict())
    write(d + "/torch_model_io.safetensors", {"input": x, "output": y})

def check(model_path, io_path):
    m = model()
    sd = read(model_path)
    m.load_state_dict(sd, strict=True)
    m.eval()
    with torch.no_grad():
        y = m(read(io_path)["input"])
    print(json.dumps({"output": y.flatten().tolist(), "keys": list(m.state_dict().keys()),
                      "num_batches_tracked": int(m[1].num_batches_tracked)}))

if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        make(sys.argv[2])
        check(sys.argv[3], sys.argv[2] + "/torch_model_io.safetensors")
