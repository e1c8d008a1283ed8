# The XOR program of the course, in PyTorch: what course.go's numbers
# are (PyTorch 1.13 on the CPU prints exactly the course's losses). The
# example's test reruns it where PyTorch is installed and checks the
# table in course.go against its output.
import sys

try:
    import torch
except ImportError as e:  # tells the Go test to skip
    print(e)
    sys.exit(97)

torch.manual_seed(777)
X = torch.FloatTensor([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = torch.FloatTensor([[0], [1], [1], [0]])
model = torch.nn.Sequential(torch.nn.Linear(2, 10), torch.nn.Sigmoid(), torch.nn.Linear(10, 10), torch.nn.Sigmoid(),
                            torch.nn.Linear(10, 10), torch.nn.Sigmoid(), torch.nn.Linear(10, 1), torch.nn.Sigmoid())
criterion = torch.nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1)
for epoch in range(10001):
    optimizer.zero_grad()
    hypothesis = model(X)
    cost = criterion(hypothesis, Y)
    cost.backward()
    optimizer.step()
    if epoch % 100 == 0:
        print(epoch, cost.item())
with torch.no_grad():
    hypothesis = model(X)
    predicted = (hypothesis > 0.5).float()
    accuracy = (predicted == Y).float().mean()
    print('hypothesis', hypothesis.detach().cpu().numpy().reshape(-1).tolist())
    print('predicted', predicted.reshape(-1).tolist(), 'accuracy', accuracy.item())
