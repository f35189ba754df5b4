#!/usr/bin/env python3
"""Trains the digits classifier once and exports it as digits.onnx.

Data: scikit-learn's digits data set (1797 real 8x8 scans of handwritten
digits, pixel values 0..16), shipped inside Debian's python3-sklearn.
Model: a small CNN in PyTorch (Debian's python3-torch), exported to ONNX
with a dynamic batch dimension. Nothing is downloaded.

    apt-get install python3-sklearn python3-torch python3-onnx
    cd examples/digits/train && /usr/bin/python3 train.py
    go run ./examples/digits/train/split   # from the repository root: the held-out split as Parquet

Model input  "pixels": float32 [N,1,8,8], each pixel divided by 16 (0..1).
Model output "logits": float32 [N,10], one score per digit; argmax is the class.

The held-out split (20 %, stratified, seed 0) is written to split.json for
the Go program in split/, which turns it into ../data/test.parquet; tests
compute the model's accuracy on it. CI never runs this script.
"""
import json
import random

import numpy as np
import onnx
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

SEED = 0
EPOCHS = 40

random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

digits = load_digits()
x_train, x_test, y_train, y_test = train_test_split(
    digits.images.astype(np.uint8), digits.target, test_size=0.2, random_state=SEED, stratify=digits.target)


def prep(x):
    return torch.from_numpy(x.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.features(x))


net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
xt, yt = prep(x_train), torch.from_numpy(y_train.astype(np.int64))
for epoch in range(EPOCHS):
    net.train()
    perm = torch.randperm(len(xt))
    for i in range(0, len(xt), 64):
        idx = perm[i:i + 64]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(xt[idx]), yt[idx])
        loss.backward()
        opt.step()

net.eval()
with torch.no_grad():
    acc = (net(prep(x_test)).argmax(1).numpy() == y_test).mean()
print(f"held-out accuracy (PyTorch): {acc:.4f} on {len(y_test)} rows")

torch.onnx.export(net, prep(x_test[:1]), "digits.onnx", input_names=["pixels"], output_names=["logits"],
                  dynamic_axes={"pixels": {0: "N"}, "logits": {0: "N"}}, opset_version=13)
model = onnx.load("digits.onnx")
onnx.checker.check_model(model)
model.producer_name = "wasinfer examples/digits/train/train.py"
model.doc_string = "CNN trained on scikit-learn digits; input pixels/16 as float32 [N,1,8,8]; output logits [N,10]"
onnx.save(model, "digits.onnx")

with open("split.json", "w") as f:
    json.dump({"pixels": x_test.reshape(len(x_test), 64).tolist(), "label": y_test.tolist(),
               "torch_accuracy": float(acc)}, f)
