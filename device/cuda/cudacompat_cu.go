//go:build cuda

package cuda

// With CUDA 13 headers, gorgonia.org/cu v0.9.6 does not compile unless
// nabla's cuda.h wrapper is on the include path; internal/cudacompat stops
// such a build with the command that fixes it, beside gorgonia.org/cu's
// own type errors.
import _ "github.com/nabla-go/nabla/internal/cudacompat"
