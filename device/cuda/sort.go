package cuda

import (
	"github.com/nabla-go/nabla/device"
	"github.com/nabla-go/nabla/internal/backend"
)

// Sort sorts along the last dimension (see device.Backend.Sort). There is
// no sort kernel: backend.SortNetwork runs a bitonic sorting network made
// of this backend's own elementwise launches (comparisons, where, copies)
// and a gather.
func (b *Backend) Sort(values, indices, src device.View, descending bool) error {
	if err := b.enter("sort"); err != nil {
		return err
	}
	defer b.leave()
	return backend.SortNetwork(b, values, indices, src, descending)
}
