"""A short tour: a tensor, its graph, and the gradients backward finds."""

import autograd_lite as ag

w = ag.Tensor([0.2, -0.27, -0.5, 1.0], requires_grad=True, name="w")
x = ag.Tensor([1.0, 2.0, 3.0, 2.5], name="x")
b = ag.Tensor(2.0, requires_grad=True, name="b")
score = ag.dot(w, x) + b
out = ag.sigmoid(score)
out.backward()
print(f"score = w·x + b = {score.item():.2f}")
print(f"sigmoid(score) = {out.item():.6f}")
print(f"d out / d w = {w.grad}")
print(f"d out / d b = {b.grad}")
print("gradcheck:", ag.gradcheck(lambda w, b: ag.sigmoid(ag.dot(w, x) + b), w, b))
