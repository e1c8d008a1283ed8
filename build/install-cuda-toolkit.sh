#!/usr/bin/env bash
# Installs the CUDA toolchain (nvcc 11.8, cuda.h, libcuda stubs) from
# Debian's contrib/non-free components. Needs root. Idempotent.
set -euo pipefail
if command -v nvcc >/dev/null 2>&1; then
	echo "nvcc already installed: $(nvcc --version | tail -n1)"
	exit 0
fi
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	# deb822 format: add contrib and non-free(-firmware) to every Components line.
	sed -i -E '/^Components:/{/contrib/!s/$/ contrib non-free non-free-firmware/}' /etc/apt/sources.list.d/debian.sources
else
	sed -i -E '/^deb /{/contrib/!s/ main/ main contrib non-free non-free-firmware/}' /etc/apt/sources.list
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nvidia-cuda-toolkit
nvcc --version | tail -n1
