package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nabla-go/nabla/internal/idx"
	"github.com/nabla-go/nabla/tensor"
)

// idxBytes encodes an IDX file by hand (not with package idx, so that a
// bug there cannot hide one here).
func idxBytes(typ byte, dims []uint32, data []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// synth is a small synthetic MNIST: n images of h×w pixels with pixel
// (i, r, c) = 10i + w*r + c and label i%10.
type synth struct{ n, h, w int }

func (s synth) images() []byte {
	out := make([]byte, 0, s.n*s.h*s.w)
	for i := range s.n {
		for p := range s.h * s.w {
			out = append(out, byte(10*i+p))
		}
	}
	return idxBytes(0x08, []uint32{uint32(s.n), uint32(s.h), uint32(s.w)}, out)
}

func (s synth) labels() []byte {
	out := make([]byte, s.n)
	for i := range out {
		out[i] = byte(i % 10)
	}
	return idxBytes(0x08, []uint32{uint32(s.n)}, out)
}

// pixel returns the expected Float32 value of pixel p of image i.
func (s synth) pixel(i, p int) float32 { return float32(byte(10*i+p)) / 255 }

// write puts the synthetic set into dir under the given split prefix.
func (s synth) write(t testing.TB, dir, prefix string, gz bool) (images, labels string) {
	imgs, lbls := s.images(), s.labels()
	ext := ""
	if gz {
		imgs, lbls, ext = gzipBytes(t, imgs), gzipBytes(t, lbls), ".gz"
	}
	return writeFile(t, filepath.Join(dir, prefix+"-images-idx3-ubyte"+ext), imgs),
		writeFile(t, filepath.Join(dir, prefix+"-labels-idx1-ubyte"+ext), lbls)
}

func TestMNISTFromFiles(t *testing.T) {
	s := synth{n: 12, h: 4, w: 3}
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "raw", true: "gzip"}[gz], func(t *testing.T) {
			imgPath, lblPath := s.write(t, t.TempDir(), "train", gz)
			ds, err := MNISTFromFiles(imgPath, lblPath)
			require.NoError(t, err)
			require.Equal(t, 12, ds.Len())
			require.Equal(t, MNISTClasses[:], ds.Classes())
			require.Equal(t, []int{1, 4, 3}, ds.ImageShape())
			require.Equal(t, []int{12, 1, 4, 3}, ds.Images().Shape())
			require.Equal(t, tensor.Uint8, ds.Images().DType())
			require.Equal(t, []int{12}, ds.Labels().Shape())

			smp, err := ds.Get(11)
			require.NoError(t, err)
			require.Equal(t, []int{1, 4, 3}, smp[0].Shape())
			require.Equal(t, tensor.Float32, smp[0].DType())
			px := smp[0].Float32s()
			for p := range 12 {
				require.Equal(t, s.pixel(11, p), px[p])
			}
			require.Equal(t, tensor.Int64, smp[1].DType())
			require.Empty(t, smp[1].Shape())
			require.Equal(t, []int64{1}, smp[1].Int64s())
			_, err = ds.Get(12)
			require.ErrorIs(t, err, tensor.ErrIndex)

			// GetBatch equals stacking Get.
			indices := []int{3, 0, 11, 3}
			fast, err := ds.GetBatch(indices)
			require.NoError(t, err)
			slow, err := stackSamples(ds, indices, nil)
			require.NoError(t, err)
			require.Equal(t, []int{4, 1, 4, 3}, fast[0].Shape())
			require.Equal(t, slow[0].Shape(), fast[0].Shape())
			require.Equal(t, slow[0].Float32s(), fast[0].Float32s())
			require.Equal(t, []int64{3, 0, 1, 3}, fast[1].Int64s())
			_, err = ds.GetBatch([]int{0, 12})
			require.ErrorIs(t, err, tensor.ErrIndex)

			flat := ds.Flat()
			require.Equal(t, []int{12}, flat.ImageShape())
			require.Equal(t, []int{1, 4, 3}, ds.ImageShape(), "Flat leaves the original alone")
			smp, err = flat.Get(2)
			require.NoError(t, err)
			require.Equal(t, []int{12}, smp[0].Shape())
			fb, err := flat.GetBatch(indices)
			require.NoError(t, err)
			require.Equal(t, []int{4, 12}, fb[0].Shape())
			require.Equal(t, slow[0].Float32s(), fb[0].Float32s())

			l, err := NewLoader(ds, BatchSize(5))
			require.NoError(t, err)
			bs := epoch(t, l)
			require.Len(t, bs, 3)
			require.Equal(t, []int{2, 1, 4, 3}, bs[2].X().Shape())
		})
	}
}

func TestPixelScaleMatchesTensorOps(t *testing.T) {
	all := make([]uint8, 256)
	for v := range all {
		all[v] = uint8(v)
	}
	ds := newImageDataset(tensor.FromSlice(all, 1, 1, 16, 16), tensor.FromSlice([]int64{0}), MNISTClasses[:])
	want := tensor.FromSlice(all).As(tensor.Float32).Div(255.0).Float32s()
	smp, err := ds.Get(0)
	require.NoError(t, err)
	require.Equal(t, want, smp[0].Float32s(), "pixel/255 as tensor ops compute it")
	for v := range all {
		require.Equal(t, float32(v)/255, want[v], "and as PyTorch's float32 division")
	}
}

func TestMNISTFromFilesErrors(t *testing.T) {
	s := synth{n: 5, h: 2, w: 2}
	good := s.images()
	goodLabels := s.labels()
	truncated := good[:len(good)-3]
	badLabels := idxBytes(0x08, []uint32{5}, []byte{0, 1, 10, 3, 4})
	tests := []struct {
		name           string
		images, labels []byte
		bad            string // which file the error must name: "images" or "labels"
		want           string
		is             error
	}{
		{"count mismatch", good, idxBytes(0x08, []uint32{4}, []byte{0, 1, 2, 3}), "both", "holds 5 images but", ErrFormat},
		{"label out of range", good, badLabels, "labels", "label 10 of sample 2 is outside 0..9", ErrFormat},
		{"images 2-D", idxBytes(0x08, []uint32{5, 4}, make([]byte, 20)), goodLabels, "images", "dimensions [N H W]", ErrFormat},
		{"images not bytes", idxBytes(0x0C, []uint32{5, 1, 1}, make([]byte, 20)), goodLabels, "images", "int", ErrFormat},
		{"labels 2-D", good, idxBytes(0x08, []uint32{5, 1}, make([]byte, 5)), "labels", "dimensions [N]", ErrFormat},
		{"truncated images", truncated, goodLabels, "images", "truncated", idx.ErrInvalid},
		{"truncated gzip", gzipBytes(t, good)[:40], goodLabels, "images", "", nil},
		{"labels not IDX", good, []byte("hello, world"), "labels", "magic", idx.ErrInvalid},
		{"empty images", nil, goodLabels, "images", "", idx.ErrInvalid},
		{"trailing bytes", append(append([]byte{}, good...), 1, 2), goodLabels, "images", "trailing", idx.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			imgPath := writeFile(t, filepath.Join(dir, "imgs-idx3-ubyte"), tc.images)
			lblPath := writeFile(t, filepath.Join(dir, "lbls-idx1-ubyte"), tc.labels)
			ds, err := MNISTFromFiles(imgPath, lblPath)
			require.Nil(t, ds)
			require.Error(t, err)
			require.ErrorContains(t, err, tc.want)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
			if tc.bad != "labels" {
				require.ErrorContains(t, err, imgPath)
			}
			if tc.bad != "images" {
				require.ErrorContains(t, err, lblPath)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		dir := t.TempDir()
		_, lblPath := s.write(t, dir, "train", false)
		missing := filepath.Join(dir, "nope-idx3-ubyte")
		_, err := MNISTFromFiles(missing, lblPath)
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.ErrorContains(t, err, missing)
	})
}

func TestFashionMNISTDir(t *testing.T) {
	small := synth{n: 20, h: 28, w: 28}
	test := synth{n: 10, h: 28, w: 28}
	layouts := []struct {
		name string
		sub  string
		gz   bool
	}{
		{"debian", "", true},
		{"uncompressed", "", false},
		{"torchvision", "FashionMNIST/raw", false},
	}
	for _, lay := range layouts {
		t.Run(lay.name, func(t *testing.T) {
			dir := t.TempDir()
			small.write(t, filepath.Join(dir, lay.sub), "train", lay.gz)
			test.write(t, filepath.Join(dir, lay.sub), "t10k", lay.gz)
			train, err := FashionMNIST(dir, true)
			require.NoError(t, err)
			require.Equal(t, 20, train.Len())
			require.Equal(t, FashionMNISTClasses[:], train.Classes())
			tst, err := FashionMNIST(dir, false)
			require.NoError(t, err)
			require.Equal(t, 10, tst.Len())
			require.Equal(t, []int{1, 28, 28}, tst.ImageShape())
		})
	}

	t.Run("missing", func(t *testing.T) {
		dir := t.TempDir()
		_, err := FashionMNIST(dir, true)
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.ErrorContains(t, err, "train-images-idx3-ubyte")
		require.ErrorContains(t, err, dir)
		require.ErrorContains(t, err, "dataset-fashion-mnist")

		small.write(t, dir, "train", true)
		require.NoError(t, os.Remove(filepath.Join(dir, "train-labels-idx1-ubyte.gz")))
		_, err = FashionMNIST(dir, true)
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.ErrorContains(t, err, "train-labels-idx1-ubyte")
	})

	t.Run("MNIST", func(t *testing.T) {
		dir := t.TempDir()
		test.write(t, filepath.Join(dir, "MNIST", "raw"), "t10k", true)
		ds, err := MNIST(dir, false)
		require.NoError(t, err)
		require.Equal(t, 10, ds.Len())
		require.Equal(t, MNISTClasses[:], ds.Classes())
		_, err = MNIST("", false)
		require.Error(t, err)
		_, err = MNIST(dir, true)
		require.ErrorIs(t, err, fs.ErrNotExist)
	})
}

// The real data set, loaded once for the tests and the benchmark.
var (
	realOnce        sync.Once
	realTrain       *ImageDataset
	realTest        *ImageDataset
	realErr         error
	fashionSkipNote = "Fashion-MNIST is not installed in " + DefaultFashionMNISTDir +
		"; install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) to run this test"
)

func realFashionMNIST(t testing.TB) (train, test *ImageDataset) {
	t.Helper()
	realOnce.Do(func() {
		realTrain, realErr = FashionMNIST("", true)
		if realErr == nil {
			realTest, realErr = FashionMNIST("", false)
		}
	})
	if errors.Is(realErr, fs.ErrNotExist) {
		t.Skip(fashionSkipNote)
	}
	require.NoError(t, realErr)
	return realTrain, realTest
}

func TestFashionMNISTReal(t *testing.T) {
	train, test := realFashionMNIST(t)
	for _, tc := range []struct {
		name     string
		ds       *ImageDataset
		n, class int
	}{
		{"train", train, 60000, 6000},
		{"test", test, 10000, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.n, tc.ds.Len())
			require.Equal(t, []int{tc.n, 1, 28, 28}, tc.ds.Images().Shape())
			hist := make([]int, 10)
			for _, y := range tc.ds.Labels().Int64s() {
				hist[y]++
			}
			for c, k := range hist {
				require.Equal(t, tc.class, k, "class %d (%s)", c, FashionMNISTClasses[c])
			}
			smp, err := tc.ds.Get(0)
			require.NoError(t, err)
			require.Equal(t, []int{1, 28, 28}, smp[0].Shape())
			lo, hi := float32(1), float32(0)
			for _, v := range smp[0].Float32s() {
				lo, hi = min(lo, v), max(hi, v)
			}
			require.GreaterOrEqual(t, lo, float32(0))
			require.LessOrEqual(t, hi, float32(1))
			require.Greater(t, hi, lo)
		})
	}
	// The first training image is an ankle boot, the first test image too.
	require.Equal(t, []int64{9}, train.Labels().Narrow(0, 0, 1).Int64s())
	require.Equal(t, []int64{9}, test.Labels().Narrow(0, 0, 1).Int64s())
	require.Equal(t, "Ankle boot", FashionMNISTClasses[9])

	// A typical split and loader.
	parts, err := RandomSplit(train, []float64{5.0 / 6, 1.0 / 6}, tensor.NewGenerator(0))
	require.NoError(t, err)
	require.Equal(t, []int{50000, 10000}, lengths(parts))
	l, err := NewLoader(parts[1], BatchSize(1000), ShuffleWith(tensor.NewGenerator(1)))
	require.NoError(t, err)
	bs := epoch(t, l)
	require.Len(t, bs, 10)
	require.Equal(t, []int{1000, 1, 28, 28}, bs[0].X().Shape())
}

// BenchmarkFashionMNISTEpoch measures one shuffled epoch of the
// Fashion-MNIST training set in batches of 64 (938 batches), with an
// empty loop body: the loader's throughput.
func BenchmarkFashionMNISTEpoch(b *testing.B) {
	train, _ := realFashionMNIST(b)
	for _, flat := range []bool{false, true} {
		b.Run(map[bool]string{false: "image", true: "flat"}[flat], func(b *testing.B) {
			ds := train
			if flat {
				ds = train.Flat()
			}
			l, err := NewLoader(ds, BatchSize(64), ShuffleWith(tensor.NewGenerator(1)))
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				for batch, err := range l.All() {
					if err != nil {
						b.Fatal(err)
					}
					n += batch.Size()
				}
				if n != 60000 {
					b.Fatalf("%d samples, want 60000", n)
				}
			}
			b.ReportMetric(float64(b.N)*60000/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// FuzzMNISTFromIDX feeds arbitrary image and label files through the
// checks this package adds on top of the IDX parser: whatever the bytes,
// loading gives a data set or an error, never a panic, and a data set
// that loads is consistent.
func FuzzMNISTFromIDX(f *testing.F) {
	s := synth{n: 3, h: 2, w: 2}
	f.Add(s.images(), s.labels())
	f.Add(s.images(), idxBytes(0x08, []uint32{3}, []byte{0, 200, 1}))
	f.Add(s.images(), idxBytes(0x08, []uint32{2}, []byte{0, 1}))
	f.Add(idxBytes(0x08, []uint32{3, 4}, make([]byte, 12)), s.labels())
	f.Add(idxBytes(0x0D, []uint32{3, 1, 1}, make([]byte, 12)), idxBytes(0x0C, []uint32{3}, make([]byte, 12)))
	f.Add([]byte{}, []byte{0, 0, 8, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		ds, err := MNISTFromReaders(bytes.NewReader(images), bytes.NewReader(labels), MNISTClasses[:])
		if err != nil {
			require.Nil(t, ds)
			return
		}
		// What loaded is what the IDX parser reads from the same bytes,
		// pixel for pixel and label for label.
		imgs, err := idx.Read(bytes.NewReader(images))
		require.NoError(t, err)
		lbls, err := idx.Read(bytes.NewReader(labels))
		require.NoError(t, err)
		n := ds.Len()
		require.Equal(t, imgs.Dims[0], n)
		require.Equal(t, []int{n, 1, imgs.Dims[1], imgs.Dims[2]}, ds.Images().Shape())
		require.Equal(t, imgs.Data, ds.Images().Uint8s())
		for i, y := range ds.Labels().Int64s() {
			require.True(t, y >= 0 && y < 10)
			require.Equal(t, int64(lbls.Data[i]), y)
		}
		smp, err := ds.Get(n - 1)
		require.NoError(t, err)
		require.Equal(t, ds.ImageShape(), smp[0].Shape())
		b, err := ds.Flat().GetBatch([]int{0, n - 1})
		require.NoError(t, err)
		require.Equal(t, []int{2, imgs.Dims[1] * imgs.Dims[2]}, b[0].Shape())
	})
}

func TestMNISTFromReadersMatchesFiles(t *testing.T) {
	dir := DefaultFashionMNISTDir
	imgPath, lblPath := dir+"/t10k-images-idx3-ubyte.gz", dir+"/t10k-labels-idx1-ubyte.gz"
	if _, err := os.Stat(imgPath); err != nil {
		t.Skip("Fashion-MNIST is not installed (Debian package dataset-fashion-mnist)")
	}
	img, err := os.Open(imgPath)
	require.NoError(t, err)
	defer img.Close()
	lbl, err := os.Open(lblPath)
	require.NoError(t, err)
	defer lbl.Close()
	fromReaders, err := MNISTFromReaders(img, lbl, FashionMNISTClasses[:])
	require.NoError(t, err)
	fromFiles, err := FashionMNIST(dir, false)
	require.NoError(t, err)
	require.Equal(t, fromFiles.Len(), fromReaders.Len())
	require.Equal(t, fromFiles.Labels().Int64s(), fromReaders.Labels().Int64s())
	require.Equal(t, fromFiles.Images().Uint8s(), fromReaders.Images().Uint8s())

	_, err = MNISTFromReaders(strings.NewReader("junk"), strings.NewReader("junk"), nil)
	require.Error(t, err)
}
