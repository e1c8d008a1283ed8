#!/usr/bin/env bash
# Installs what the reference comparisons need on a Debian machine (root):
# PyTorch (CPU) with OpenBLAS as the BLAS it calls (Debian's default
# reference BLAS is ~50x slower and would make every ratio meaningless),
# NumPy for the .npy interop tests, and the Fashion-MNIST data set.
set -euo pipefail
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	python3-torch python3-numpy libopenblas0-pthread dataset-fashion-mnist
/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)'
ls /usr/share/datasets/fashion-mnist
