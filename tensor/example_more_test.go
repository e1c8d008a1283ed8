package tensor_test

import (
	"fmt"

	"github.com/nabla-go/nabla/tensor"
)

// Sort returns the sorted values and where they came from; TopK the k
// largest. Top-k accuracy compares the k best guesses with the labels.
func ExampleTensor_TopK() {
	logits := tensor.FromSlice([]float32{
		0.1, 2.0, 0.3, 1.5,
		3.0, 0.2, 2.5, 0.1,
	}, 2, 4)
	labels := tensor.FromSlice([]int64{3, 1})

	vals, idx := logits.Sort(1, true)
	fmt.Println(vals)
	fmt.Println(idx)

	_, top2 := logits.TopK(2, 1, true)
	hit := top2.Eq(labels.Unsqueeze(1)).Any(1)
	fmt.Println(top2, hit)
	// Output:
	// tensor([[2.0000, 1.5000, 0.3000, 0.1000],
	//         [3.0000, 2.5000, 0.2000, 0.1000]])
	// tensor([[1, 3, 2, 0],
	//         [0, 2, 1, 3]])
	// tensor([[1, 3],
	//         [0, 2]]) tensor([ True, False])
}

// OneHot encodes class labels; CumSum, Flip, Repeat and Norm are the
// everyday reshuffles and reductions of the course's exercises.
func ExampleOneHot() {
	fmt.Println(tensor.OneHot(tensor.FromSlice([]int64{2, 0, 1}), 3))

	x := tensor.FromSlice([]float32{1, 2, 3, 4}, 2, 2)
	fmt.Println(x.CumSum(1))
	fmt.Println(x.Flip(0))
	fmt.Println(x.Repeat(1, 2))
	fmt.Println(tensor.FromSlice([]float32{3, 4}).Norm(2))
	// Output:
	// tensor([[0, 0, 1],
	//         [1, 0, 0],
	//         [0, 1, 0]])
	// tensor([[1., 3.],
	//         [3., 7.]])
	// tensor([[3., 4.],
	//         [1., 2.]])
	// tensor([[1., 2., 1., 2.],
	//         [3., 4., 3., 4.]])
	// tensor(5.)
}
