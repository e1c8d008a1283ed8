# Prints, as JSON, the orders in which PyTorch 1.13's DataLoader and
# random_split visit a data set after torch.manual_seed: the reference
# for data's TestLoaderMatchesTorch (torch_loader.json is this script's
# output, committed because CI has no PyTorch; TestLoaderReferenceRegenerate
# reruns it where PyTorch is installed and compares).
#
#   python3 data/testdata/torch_loader.py > data/testdata/torch_loader.json
#
# After the loops each case draws torch.rand(2) (from the loader's
# generator, or the default one) to show where the stream stands.
import json
import sys

try:
    import torch
    from torch.utils.data import DataLoader, TensorDataset, random_split
except ImportError as e:  # tells the Go test to skip
    print(e)
    sys.exit(97)


def epochs(loader, n):
    return [[int(i) for b in loader for i in b[0].tolist()] for _ in range(n)]


def rand(gen=None):
    return [float(v) for v in torch.rand(2, generator=gen).tolist()]


def main():
    ds = TensorDataset(torch.arange(10))
    out = {}
    torch.manual_seed(0)
    out["shuffle"] = {"seed": 0, "epochs": epochs(DataLoader(ds, batch_size=3, shuffle=True), 3), "then": rand()}
    torch.manual_seed(1)
    g = torch.Generator().manual_seed(5)
    out["shuffle_generator"] = {"seed": 5, "epochs": epochs(DataLoader(ds, batch_size=4, shuffle=True, generator=g), 2),
                                "then": rand(g)}
    torch.manual_seed(2)
    out["no_shuffle"] = {"seed": 2, "epochs": epochs(DataLoader(ds, batch_size=4), 2), "then": rand()}
    torch.manual_seed(3)
    parts = random_split(range(10), [6, 4])
    out["random_split"] = {"seed": 3, "parts": [list(p.indices) for p in parts], "then": rand()}
    parts = random_split(range(10), [0.7, 0.3], generator=torch.Generator().manual_seed(42))
    out["random_split_generator"] = {"seed": 42, "parts": [list(p.indices) for p in parts]}
    w = sys.stdout.write
    w('{"torch": %s,\n' % json.dumps(torch.__version__.split("+")[0]))
    w(",\n".join(" %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in out.items()))
    w("\n}\n")


if __name__ == "__main__":
    main()
