# Sourced by build/build-nabla-cuda.sh and build/gpu-binaries.sh: sets up
# cgo for a -tags cuda build (CGO_ENABLED, CGO_CFLAGS, CGO_LDFLAGS) and
# sets cuda_version to the CUDA_VERSION of the cuda.h the build will use.
#
# - $CUDA_HOME/include (default /usr/local/cuda) and the toolkit's libcuda
#   stub are added when they exist; gorgonia.org/cu looks in
#   /usr/local/cuda, /opt/cuda and the system directories by itself.
# - With CUDA 13 or newer headers, nabla's cuda.h wrapper
#   (internal/cudacompat/include) goes first on the include path: without
#   it gorgonia.org/cu v0.9.6 does not compile (README.md, Supported CUDA
#   toolkits and drivers).
# - Stops with a message when no cuda.h is found.
#
# Needs: root (the repository root), go on PATH. Env: CUDA_HOME, and
# CGO_CFLAGS / CGO_LDFLAGS / CC, which are kept and added to.

CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
export CGO_ENABLED=1
CGO_CFLAGS="$(go env CGO_CFLAGS)" # the caller's, or Go's default (-O2 -g)
if [ -f "$CUDA_HOME/include/cuda.h" ]; then
	CGO_CFLAGS="$CGO_CFLAGS -I$CUDA_HOME/include"
fi
for lib in "$CUDA_HOME/lib64" "$CUDA_HOME/lib64/stubs" /usr/lib/x86_64-linux-gnu/stubs; do
	if [ -e "$lib/libcuda.so" ]; then
		CGO_LDFLAGS="${CGO_LDFLAGS:-} -L$lib"
	fi
done

# The cuda.h cgo will find: these flags first, then gorgonia.org/cu's own
# include directories in its order.
cuda_version=$(printf '#include <cuda.h>\nCUDA_VERSION\n' |
	$(go env CC) -E -P $CGO_CFLAGS -I/usr/local/cuda/include -I/usr/local/cuda-11.0/targets/x86_64-linux/include \
		-I/usr/local/cuda-10.2/include -I/usr/include -I/opt/cuda/include -x c - 2>/dev/null | tail -n 1 | tr -d ' ' || true)
case "$cuda_version" in
'' | *[!0-9]*)
	echo "no CUDA cuda.h found: install a CUDA toolkit (build/install-cuda-toolkit.sh on Debian) or set CUDA_HOME to one" >&2
	exit 1
	;;
esac
if [ "$cuda_version" -ge 13000 ]; then
	# The define changes the flags, and so Go's build cache key, whenever
	# the wrapper changes: Go does not track headers outside a package.
	compat="$root/internal/cudacompat/include"
	CGO_CFLAGS="-I$compat -DNABLA_CUDA_COMPAT_ID=$(cksum <"$compat/cuda.h" | cut -d' ' -f1) $CGO_CFLAGS"
	echo "cuda.h: CUDA_VERSION $cuda_version; building gorgonia.org/cu through nabla's wrapper ($compat)"
else
	echo "cuda.h: CUDA_VERSION $cuda_version"
fi
export CGO_CFLAGS CGO_LDFLAGS
