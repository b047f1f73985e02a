#!/usr/bin/env python3
"""PyTorch anchor for issue 9: LeNet-300-100 trained with the demo's fixed recipe, for accuracy and training speed.

    /usr/bin/python3 perf/torch/anchor.py [--data DIR] [--epochs 20] [--seed 1] [--threads 2] [--runs 1]

The recipe is the one `sprune demo` trains its mlp with (src/Span.Prune.Lab/Training: TrainingOptions, Trainer,
CosineSchedule, SgdMomentum): 784-300-100-10 with ReLU, PyTorch's default init (seeded), inputs x/255, mean softmax
cross-entropy, torch.optim.SGD with momentum 0.9 and weight decay 1e-4 (the form the demo's SgdMomentum copies),
batch 64 with the last batch partial, reshuffled every epoch from a seeded torch.Generator, lr cosine-annealed per
step from 0.05 to 0 over all steps (lr_t = 0.05*(1 + cos(pi*t/T))/2, T = epochs*ceil(n/64), set before step t).
The shuffles and init differ from the demo's (different generators), so accuracies agree only statistically.

Data: the four gzipped IDX files in DIR, by default the embedded digits src/Span.Prune.Lab/Data/Digits (8,004 train /
1,996 test); Fashion-MNIST's four files work the same (--data /tmp/fashion).

Throughput is images trained per second of the training steps only (forward, loss, backward, optimiser step),
measured with time.perf_counter around each epoch's steps; the epoch's shuffled copy of the data is made before the
clock starts, so data loading is excluded (the demo's own figure includes its per-batch gather, so the comparison
favours PyTorch slightly). torch.set_num_threads(--threads), 2 by default: the whole machine.

Torch and the standard library only. Debian's python3-torch is in /usr/bin/python3; a pyenv python3 does not see it.
Installed with --no-install-recommends it runs on the reference BLAS (torch.__config__.show(): BLAS_INFO=generic, and
`update-alternatives --display libblas.so.3-x86_64-linux-gnu` points at blas/): 923 images/s. Install Debian's OpenBLAS
(`apt-get install --no-install-recommends libopenblas0-openmp`, the package libtorch recommends) before measuring.
"""

import argparse
import gzip
import math
import os

# GNU OpenMP spins at its barriers by default; on a shared 2-core machine whose cores are busy with other work, two
# spinning threads ran 1 epoch in 22 s instead of 0.3 s (363 against 26,000 images/s). Sleeping waiters remove that
# pathology; the variable must be set before torch loads libgomp. An explicit OMP_WAIT_POLICY wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import statistics
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DIGITS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "Span.Prune.Lab", "Data", "Digits")


def read_idx(path):
    """An IDX file (gzipped or raw) as a uint8 tensor of its shape."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    zero, dtype, dims = struct.unpack_from(">HBB", data, 0)
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack_from(">" + "I" * dims, data, 4)
    body = data[4 + 4 * dims:]
    if len(body) != math.prod(shape):
        raise ValueError(f"{path}: {len(body)} bytes of data, header says {shape}")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(shape)


def load(directory):
    def pick(stem):
        for name in (stem + ".gz", stem):
            if os.path.exists(os.path.join(directory, name)):
                return os.path.join(directory, name)
        raise FileNotFoundError(os.path.join(directory, stem))
    x_train = read_idx(pick("train-images-idx3-ubyte")).reshape(-1, 784).float() / 255
    y_train = read_idx(pick("train-labels-idx1-ubyte")).long()
    x_test = read_idx(pick("t10k-images-idx3-ubyte")).reshape(-1, 784).float() / 255
    y_test = read_idx(pick("t10k-labels-idx1-ubyte")).long()
    return x_train, y_train, x_test, y_test


def train_once(data, epochs, seed, batch=64, lr0=0.05):
    x_train, y_train, x_test, y_test = data
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr0, momentum=0.9, weight_decay=1e-4)
    shuffle = torch.Generator().manual_seed(seed)
    n = x_train.shape[0]
    steps = epochs * math.ceil(n / batch)
    t, seconds = 0, 0.0
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=shuffle)
        xs, ys = x_train[order], y_train[order]          # data loading: outside the clock
        start = time.perf_counter()
        for i in range(0, n, batch):
            for group in optimizer.param_groups:
                group["lr"] = lr0 * (1 + math.cos(math.pi * t / steps)) / 2
            loss = F.cross_entropy(model(xs[i:i + batch]), ys[i:i + batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            t += 1
        seconds += time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    return accuracy, epochs * n / seconds, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DIGITS, help="directory with the four IDX files (default: the embedded digits)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1, help="independent runs (seed, seed+1, ...); the median is printed")
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    data = load(a.data)
    print(f"torch {torch.__version__}, {a.threads} threads, {data[0].shape[0]} train / {data[2].shape[0]} test images, {a.epochs} epochs")
    results = []
    for r in range(a.runs):
        accuracy, rate, seconds = train_once(data, a.epochs, a.seed + r)
        results.append((accuracy, rate, seconds))
        print(f"run {r + 1}: test accuracy {100 * accuracy:.2f}%, {seconds:.2f} s training, {rate:,.0f} images/s")
    if a.runs > 1:
        print(f"median: test accuracy {100 * statistics.median(r[0] for r in results):.2f}%, "
              f"{statistics.median(r[1] for r in results):,.0f} images/s")


if __name__ == "__main__":
    main()
