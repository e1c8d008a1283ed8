package data

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/nabla-go/nabla/device/cpu"
	"github.com/nabla-go/nabla/internal/idx"
	"github.com/nabla-go/nabla/tensor"
)

// FashionMNISTClasses are the names of the ten Fashion-MNIST classes,
// indexed by label.
var FashionMNISTClasses = [10]string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// MNISTClasses are the names of the ten MNIST classes, the digits "0" to
// "9", indexed by label.
var MNISTClasses = [10]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// DefaultFashionMNISTDir is where Debian's dataset-fashion-mnist package
// installs Fashion-MNIST; FashionMNIST reads from it when given no
// directory.
const DefaultFashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// ImageDataset is a labelled image data set held in memory, as read by
// MNISTFromFiles: the images as raw Uint8 pixels of shape [N C H W], the
// labels as Int64 of shape [N], both on the CPU. Sample i is (image,
// label): the image Float32 in [0, 1] (pixel/255 in float32, exactly as
// torchvision's ToTensor) of shape [C H W], or [C*H*W] for the data set
// returned by Flat, and the label a 0-dimensional Int64 tensor.
//
// GetBatch builds the image batch in one pass that gathers, converts and
// scales the pixels together, and the label batch with one IndexSelect;
// nothing is built per sample. An ImageDataset is immutable and safe for
// concurrent use.
type ImageDataset struct {
	images  *tensor.Tensor // Uint8 [N C H W], CPU, contiguous
	pix     []uint8        // the images' memory
	labels  *tensor.Tensor // Int64 [N]
	classes []string
	flat    bool
}

// pixelScale maps a pixel to its Float32 value: float32(v)/255 computed
// in float32, as PyTorch's img.float().div(255).
var pixelScale = func() (lut [256]float32) {
	for v := range lut {
		lut[v] = float32(v) / 255
	}
	return lut
}()

// newImageDataset builds the data set from images, Uint8 [N C H W] on the
// CPU, and labels, Int64 [N]; it keeps them as they are.
func newImageDataset(images, labels *tensor.Tensor, classes []string) *ImageDataset {
	return &ImageDataset{
		images:  images,
		pix:     cpu.Data(images.Buffer()).([]uint8),
		labels:  labels,
		classes: slices.Clone(classes),
	}
}

// Len returns the number of images.
func (d *ImageDataset) Len() int { return d.labels.Size(0) }

// gather returns the images at indices as Float32 in [0, 1], of shape
// [len(indices)] + ImageShape().
func (d *ImageDataset) gather(indices []int) *tensor.Tensor {
	shape := append([]int{len(indices)}, d.ImageShape()...)
	out := tensor.Empty(shape...)
	dst, direct := cpu.Data(out.Buffer()).([]float32)
	if !direct || len(dst) != out.Numel() {
		direct = false
		dst = make([]float32, out.Numel())
	}
	size := d.images.Numel() / d.Len()
	for k, i := range indices {
		row, src := dst[k*size:(k+1)*size], d.pix[i*size:(i+1)*size]
		for p, v := range src {
			row[p] = pixelScale[v]
		}
	}
	if !direct {
		out = tensor.FromSlice(dst, shape...)
	}
	return out
}

// Get returns image i as Float32 in [0, 1] and its label.
func (d *ImageDataset) Get(i int) ([]*tensor.Tensor, error) {
	if err := checkIndex("ImageDataset.Get", i, d.Len()); err != nil {
		return nil, err
	}
	img := d.gather([]int{i})
	return []*tensor.Tensor{img.Select(0, 0), d.labels.Select(0, i)}, nil
}

// GetBatch returns the images at indices as Float32 in [0, 1], of shape
// [B C H W] (or [B C*H*W] when flat), and their labels, of shape [B].
func (d *ImageDataset) GetBatch(indices []int) ([]*tensor.Tensor, error) {
	if err := checkIndices("ImageDataset.GetBatch", indices, d.Len()); err != nil {
		return nil, err
	}
	var out []*tensor.Tensor
	err := tensor.Catch(func() {
		out = []*tensor.Tensor{d.gather(indices), d.labels.IndexSelect(0, indexTensor(indices, d.labels.Device()))}
	})
	if err != nil {
		return nil, fmt.Errorf("data: ImageDataset.GetBatch: %w", err)
	}
	return out, nil
}

// Flat returns the data set with images flattened to vectors of C*H*W
// values (784 for MNIST), ready for a multi-layer perceptron. It shares
// memory with d.
func (d *ImageDataset) Flat() *ImageDataset {
	c := *d
	c.flat = true
	return &c
}

// ImageShape returns the shape of one image sample: [C H W], or [C*H*W]
// when flat.
func (d *ImageDataset) ImageShape() []int {
	s := d.images.Shape()[1:]
	if d.flat {
		return []int{s[0] * s[1] * s[2]}
	}
	return s
}

// Images returns all images as raw Uint8 pixels of shape [N C H W]; the
// tensor is the data set's own.
func (d *ImageDataset) Images() *tensor.Tensor { return d.images }

// Labels returns all labels, Int64 of shape [N]; the tensor is the data
// set's own.
func (d *ImageDataset) Labels() *tensor.Tensor { return d.labels }

// Classes returns the class names, indexed by label.
func (d *ImageDataset) Classes() []string { return slices.Clone(d.classes) }

// MNISTFromFiles reads an MNIST-format data set from a pair of IDX files:
// imagesPath holds unsigned-byte images of dimensions [N H W] and
// labelsPath unsigned-byte labels of dimension [N], each either raw or
// gzip-compressed. The counts must match and every label must lie in
// 0..9. The images get one channel: samples are [1 H W]. Missing,
// malformed or inconsistent files give an error naming the file.
//
// The files are hostile until checked: both headers are validated and
// checked against each other (and an uncompressed file's header against
// its size) before anything is allocated for the data, the images'
// tensor is allocated under the CPU memory limit (see
// cpu.MemoryLimit), and the pixels are read straight into it, so
// that loading takes the data's size in memory plus a small constant.
func MNISTFromFiles(imagesPath, labelsPath string) (*ImageDataset, error) {
	return mnistFromFiles(imagesPath, labelsPath, MNISTClasses[:])
}

// FashionMNIST reads the Fashion-MNIST training set (60000 images, train
// true) or test set (10000 images) from dir, which holds the four files
// of the original distribution: train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte, each gzip-compressed (".gz") or not. An empty
// dir means DefaultFashionMNISTDir, where Debian's dataset-fashion-mnist
// package puts them; torchvision's layout (dir/FashionMNIST/raw) is found
// too. Samples are ([1 28 28] Float32 in [0, 1], Int64 label); the class
// names are FashionMNISTClasses. When the files are missing the error
// wraps fs.ErrNotExist and says how to install them.
func FashionMNIST(dir string, train bool) (*ImageDataset, error) {
	if dir == "" {
		dir = DefaultFashionMNISTDir
	}
	return mnistFromDir("FashionMNIST", dir, []string{"", "FashionMNIST/raw", "raw"}, train, FashionMNISTClasses[:],
		"install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist), which puts them in "+DefaultFashionMNISTDir)
}

// MNIST reads the MNIST handwritten-digit training set (60000 images,
// train true) or test set (10000 images) from dir, which holds the files
// train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each
// gzip-compressed (".gz") or not; torchvision's layout (dir/MNIST/raw) is
// found too. Samples are ([1 28 28] Float32 in [0, 1], Int64 label).
func MNIST(dir string, train bool) (*ImageDataset, error) {
	if dir == "" {
		return nil, errors.New("data: MNIST: no directory given")
	}
	return mnistFromDir("MNIST", dir, []string{"", "MNIST/raw", "raw"}, train, MNISTClasses[:],
		"download the four files of the MNIST distribution into it")
}

// mnistFromDir finds the image and label files of one split in dir (or
// one of its subdirectories subs) and reads them.
func mnistFromDir(name, dir string, subs []string, train bool, classes []string, hint string) (*ImageDataset, error) {
	prefix := "t10k"
	if train {
		prefix = "train"
	}
	find := func(base string) (string, error) {
		for _, sub := range subs {
			for _, ext := range []string{".gz", ""} {
				p := filepath.Join(dir, sub, base+ext)
				if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
					return p, nil
				}
			}
		}
		return "", fmt.Errorf("data: %s: %s (or %s.gz) not found in %s; %s: %w", name, base, base, dir, hint, fs.ErrNotExist)
	}
	imagesPath, err := find(prefix + "-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	labelsPath, err := find(prefix + "-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	return mnistFromFiles(imagesPath, labelsPath, classes)
}

func mnistFromFiles(imagesPath, labelsPath string, classes []string) (*ImageDataset, error) {
	images, err := idx.Open(imagesPath)
	if err != nil {
		return nil, fmt.Errorf("data: MNIST images: %w", err) // err names the file
	}
	defer images.Close()
	labels, err := idx.Open(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("data: MNIST labels: %w", err)
	}
	defer labels.Close()
	return mnistFromIDX(images, labels, imagesPath, labelsPath, classes)
}

// ErrFormat is wrapped by the errors of files that are valid IDX but do
// not hold an MNIST-style data set: wrong element type or dimensions,
// image and label counts that differ, labels out of range.
var ErrFormat = errors.New("not an MNIST-format data set")

// mnistFromIDX checks the headers of an image and a label file, then
// reads the labels and the images, the images straight into the data
// set's tensor (no second copy of the pixels); the names are the files',
// for messages. Nothing is allocated for the data before both headers
// have been checked against each other.
func mnistFromIDX(images, labels *idx.Reader, imagesName, labelsName string, classes []string) (*ImageDataset, error) {
	if images.Type != idx.Ubyte || len(images.Dims) != 3 {
		return nil, fmt.Errorf("data: MNIST images %s: want unsigned bytes of dimensions [N H W], the file holds %v of dimensions %v: %w",
			imagesName, images.Type, images.Dims, ErrFormat)
	}
	if labels.Type != idx.Ubyte || len(labels.Dims) != 1 {
		return nil, fmt.Errorf("data: MNIST labels %s: want unsigned bytes of dimensions [N], the file holds %v of dimensions %v: %w",
			labelsName, labels.Type, labels.Dims, ErrFormat)
	}
	n, h, w := images.Dims[0], images.Dims[1], images.Dims[2]
	if labels.Dims[0] != n {
		return nil, fmt.Errorf("data: MNIST: %s holds %d images but %s holds %d labels: %w",
			imagesName, n, labelsName, labels.Dims[0], ErrFormat)
	}
	raw, err := tensor.FromBytesFunc(tensor.Uint8, []int{n}, labels.ReadData)
	if err != nil {
		return nil, fmt.Errorf("data: MNIST labels %s: %w", labelsName, err)
	}
	for i, v := range cpu.Data(raw.Buffer()).([]uint8) {
		if int(v) >= len(classes) {
			return nil, fmt.Errorf("data: MNIST labels %s: label %d of sample %d is outside 0..%d: %w",
				labelsName, v, i, len(classes)-1, ErrFormat)
		}
	}
	var lab *tensor.Tensor
	if err := tensor.Catch(func() { lab = raw.As(tensor.Int64) }); err != nil {
		return nil, fmt.Errorf("data: MNIST labels %s: %w", labelsName, err)
	}
	pix, err := tensor.FromBytesFunc(tensor.Uint8, []int{n, 1, h, w}, images.ReadData)
	if err != nil {
		return nil, fmt.Errorf("data: MNIST images %s: %w", imagesName, err)
	}
	return newImageDataset(pix, lab, classes), nil
}

// MNISTFromReaders reads an IDX image file and label file from readers, as
// MNISTFromFiles does from paths; either may be gzip-compressed (recognised
// by its magic bytes). classes names the labels, for example
// FashionMNISTClasses[:]. It serves data embedded in a binary.
func MNISTFromReaders(images, labels io.Reader, classes []string) (*ImageDataset, error) {
	imr, err := newIDXReader(images)
	if err != nil {
		return nil, fmt.Errorf("data: MNIST images: %w", err)
	}
	lbr, err := newIDXReader(labels)
	if err != nil {
		return nil, fmt.Errorf("data: MNIST labels: %w", err)
	}
	return mnistFromIDX(imr, lbr, "images", "labels", classes)
}

// newIDXReader reads the header of an IDX file from r, decompressing it
// when it is gzip-compressed. The length of an uncompressed input that
// tells it (see idx.StreamSize) is kept, so that its header is checked
// against it.
func newIDXReader(r io.Reader) (*idx.Reader, error) {
	size := idx.StreamSize(r)
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return idx.NewReaderSize(zr, -1)
	}
	return idx.NewReaderSize(br, size)
}
