"""Test driver for TorchStatsTests: runs src/Span.Prune.Cli/Stats/sprune_stats.py on small torch models.

    python3 torch_stats_check.py masks OUTDIR
        For a tiny mlp (Linear 12->8, ReLU, Linear 8->4) and a tiny cnn (conv 2->4 pad 1, BN, ReLU, conv 4->6, ReLU,
        flatten, Linear 96->3), with seeded random calibration batches: writes NAME.safetensors (the state_dict),
        NAME.stats.safetensors (sprune_stats.collect) and NAME.masks.safetensors, the keep (1) / prune (0) mask that
        each criterion gives at each sparsity, computed here in torch from the model and the statistics, named
        "CRITERION@SPARSITY/WEIGHT" (F32, shape of the weight).
    python3 torch_stats_check.py lenet OUTDIR PIXELS LABELS COUNT H1 H2 C1 C2
        The demo's two architectures (784-H1-H2-10 mlp; conv 1->C1, BN, ReLU, pool, conv C1->C2, BN, ReLU, pool,
        linear) with PyTorch's default init (seed 3), the first COUNT images of the raw files PIXELS (COUNT*784 bytes)
        and LABELS in consecutive batches of 32, inputs x/255: writes mlp/cnn .safetensors and .stats.safetensors,
        for comparison with the demo's own collector.

The masks follow the library's exact-k rule, written here independently: k = round(s*n) (Python's round, half to
even, on the double product, as torch.nn.utils.prune), and the k lowest scores pruned, ties to the lower index (a
stable ascending sort). Per criterion: magnitude |w| and taylor (W.taylor itself) and obd ((0.5*F)*(w*w), float32)
over the whole tensor; wanda |w|*||X_j|| within each output row; apoz the units with the highest W.apoz first
(score -apoz), whole rows.
"""

import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "src", "Span.Prune.Cli", "Stats"))
import sprune_stats  # noqa: E402

SPARSITIES = (0.5, 0.375)   # 0.375 rounds half to even both ways: 0.375*4 = 1.5 -> 2, 0.375*12 = 4.5 -> 4


def lowest(scores, k):
    """Keep mask (1 keep, 0 prune) of a 1-D score vector: the k lowest, ties by index (stable sort)."""
    mask = torch.ones_like(scores)
    if k:
        mask[torch.sort(scores, stable=True).indices[:k]] = 0
    return mask


def count(n, s):
    return round(s * n)


def masks_of(model, stats):
    out = {}
    for name, p in model.state_dict().items():
        if p.dim() < 2 or not p.is_floating_point():
            continue
        w = p.detach().float()
        flat = w.reshape(w.shape[0], -1)
        for s in SPARSITIES:
            n = w.numel()
            scores = {
                "magnitude": w.abs(),
                "taylor": stats[name + ".taylor"],
                "obd": (0.5 * stats[name + ".fisher"]) * (w * w),
            }
            for criterion, score in scores.items():
                out[f"{criterion}@{s}/{name}"] = lowest(score.reshape(-1), count(n, s)).reshape(w.shape)
            wanda = flat.abs() * stats[name + ".input_norm"]
            rows = torch.stack([lowest(row, count(flat.shape[1], s)) for row in wanda])
            out[f"wanda@{s}/{name}"] = rows.reshape(w.shape)
            if name + ".apoz" in stats:
                units = lowest(-stats[name + ".apoz"], count(w.shape[0], s))
                out[f"apoz@{s}/{name}"] = units[:, None].expand(flat.shape).reshape(w.shape).contiguous()
    return out


def tie_weights(model):
    """Plants exact magnitude ties (sign flipped), so that the tie rule decides part of the magnitude masks."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                flat = m.weight.view(-1)
                flat[1::5] = -flat[0]
                flat[2::7] = flat[0]


def tiny_models():
    mlp = nn.Sequential(OrderedDict([("fc1", nn.Linear(12, 8)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(8, 4))]))
    cnn = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(2, 4, 3, padding=1)), ("bn1", nn.BatchNorm2d(4)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(4, 6, 3)), ("relu2", nn.ReLU(inplace=True)),
        ("flatten", nn.Flatten()), ("fc", nn.Linear(6 * 4 * 4, 3))]))
    return {"mlp": (mlp, lambda g: torch.randn(16, 12, generator=g), 4),
            "cnn": (cnn, lambda g: torch.randn(16, 2, 6, 6, generator=g), 3)}


def run_masks(outdir):
    torch.manual_seed(7)
    for name, (model, make, classes) in tiny_models().items():
        tie_weights(model)
        g = torch.Generator().manual_seed(11)
        batches = [(make(g), torch.randint(0, classes, (16,), generator=g)) for _ in range(5)]
        stats = sprune_stats.collect(model, batches, F.cross_entropy, os.path.join(outdir, name + ".stats.safetensors"), samples=40)
        sprune_stats.save_file(model.state_dict(), os.path.join(outdir, name + ".safetensors"))
        # Read the stats back from the file: the masks are computed from what the CLI will read.
        stats = sprune_stats.load_file(os.path.join(outdir, name + ".stats.safetensors"))
        sprune_stats.save_file(masks_of(model, stats), os.path.join(outdir, name + ".masks.safetensors"))


def run_lenet(outdir, pixels, labels, images, h1, h2, c1, c2):
    with open(pixels, "rb") as f:
        x = torch.tensor(list(f.read()), dtype=torch.uint8)[: images * 784].reshape(images, 784)
    with open(labels, "rb") as f:
        y = torch.tensor(list(f.read()), dtype=torch.uint8)[:images].long()
    x = x.float() / 255   # x/255 in float32, correctly rounded, as the demo's input
    torch.manual_seed(3)
    mlp = nn.Sequential(OrderedDict([("flatten", nn.Flatten()), ("fc1", nn.Linear(784, h1)), ("relu1", nn.ReLU()),
                                     ("fc2", nn.Linear(h1, h2)), ("relu2", nn.ReLU()), ("fc3", nn.Linear(h2, 10))]))
    cnn = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, c1, 3, padding=1)), ("bn1", nn.BatchNorm2d(c1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(c1, c2, 3, padding=1)), ("bn2", nn.BatchNorm2d(c2)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()), ("fc", nn.Linear(c2 * 49, 10))]))
    for name, model, shape in (("mlp", mlp, (-1, 784)), ("cnn", cnn, (-1, 1, 28, 28))):
        batches = [(x[i:i + 32].reshape(shape), y[i:i + 32]) for i in range(0, images, 32)]
        sprune_stats.collect(model, batches, F.cross_entropy, os.path.join(outdir, name + ".stats.safetensors"), samples=images * 8)
        sprune_stats.save_file(model.state_dict(), os.path.join(outdir, name + ".safetensors"))


if __name__ == "__main__":
    if sys.argv[1] == "masks":
        run_masks(sys.argv[2])
    elif sys.argv[1] == "lenet":
        run_lenet(sys.argv[2], sys.argv[3], sys.argv[4], *map(int, sys.argv[5:10]))
    else:
        sys.exit(f"unknown mode {sys.argv[1]}")
