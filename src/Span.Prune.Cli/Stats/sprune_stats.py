#!/usr/bin/env python3
"""Statistics for `sprune prune --stats`, collected from a PyTorch model. Depends on torch and the standard library only.

    import sprune_stats
    sprune_stats.save_file(model.state_dict(), "model.safetensors")
    sprune_stats.collect(model, loader, torch.nn.functional.cross_entropy, "stats.safetensors")
    # sprune prune model.safetensors -o pruned.safetensors --criterion wanda --stats stats.safetensors --sparsity 0.5
    model.load_state_dict(sprune_stats.load_file("pruned.safetensors"))

What `collect` writes, for every nn.Linear and nn.Conv2d weight W (its state_dict name, e.g. `fc1.weight`), F32, in the
naming convention of src/Span.Prune.Cli/Commands/PruneCommand.Stats.cs; the definitions are those of the demo's
collector (src/Span.Prune.Lab/Demo/Statistics/NetworkStatistics.cs), so the two produce the same statistics for the
same network and batches (a test checks this):
  W.grad        shape of W   mean over batches of g_b, the gradient of batch b's loss (ḡ; taylor without W.taylor)
  W.taylor      shape of W   mean over batches of |g_b·w|; what the CLI's taylor prefers. It is not |ḡ·w|: batches of
                             opposite sign do not cancel (Molchanov et al. 2019 accumulate this form)
  W.fisher      shape of W   mean over batches of g_b² (empirical Fisher diagonal; obd scores ½·F·w²)
  W.input_norm  [in·kh·kw]   ‖X_j‖₂ over every token the layer saw in all batches (not per batch): one token per
                             sample for a linear layer (per row of the flattened leading dims of a >2-D input), one
                             per sample and output position for a convolution, j an im2col feature (i, kh, kw) in
                             filter-row (OIHW) order, which is F.unfold's order
  W.apoz        [out]        Average Percentage of Zeros of each output unit/channel: the fraction of its values
                             (over samples and positions) that are <= 0 at the output of the nn.ReLU the layer feeds,
                             through BatchNorm / Dropout / Identity modules. Written only for layers that feed an
                             nn.ReLU (so not for the last layer, like the demo). See `apoz` below for F.relu models.
  W.inputs      [N, in·kh·kw] sampled layer inputs (regression): a linear layer's first `samples` tokens in order; a
                             convolution's im2col rows at `positions` output positions per sample, drawn without
                             replacement from a torch.Generator seeded with `seed`, until `samples` rows
  W.targets     [N, out]     X·Wᵀ at those rows, without the bias (the refit keeps the bias, so it reconstructs only
                             the product), computed after the last batch with the unchanged weights

Gradients are those of the training loss: by default every batch runs a training-mode forward (BatchNorm on batch
statistics, as in a training step), `loss_fn(output, target)` and a backward pass, one batch at a time. The model is
not changed: the training flags, every buffer (BatchNorm running statistics and counters) and every parameter's .grad
are saved before and restored after. Sums are kept in float64 and divided once, as the library's accumulators do.

The safetensors files are written by hand (this module does not need the safetensors package): an 8-byte
little-endian header length, a JSON header {name: {dtype, shape, data_offsets}} with offsets contiguous from 0,
padded with spaces to a multiple of 8, then the raw little-endian bytes.

Run with an interpreter that has torch: Debian's python3-torch installs into /usr/bin/python3 (3.11); a pyenv or venv
`python3` earlier on PATH does not see it.
"""

import ctypes
import json
import struct
import sys

import torch
import torch.nn.functional as F

__all__ = ["collect", "save_file", "load_file"]

# Modules that pass a layer's output on to its ReLU unchanged in meaning (a per-channel affine map or an identity):
# the ReLU after them is still "the layer's activation" for APoZ, as conv -> bn -> relu is in the demo's cnn.
_PASS_THROUGH = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d, torch.nn.Identity,
                 torch.nn.Dropout, torch.nn.Dropout2d)
_RELU = (torch.nn.ReLU, torch.nn.ReLU6)

_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
           torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
           torch.bool: "BOOL"}
_TORCH_DTYPES = {name: dtype for dtype, name in _DTYPES.items()}


class _Layer:
    """Per-layer sums over the calibration batches (float64, divided once at the end)."""

    def __init__(self, name, module, samples, positions, seed):
        self.name, self.module = name, module
        w = module.weight
        self.conv = isinstance(module, torch.nn.Conv2d)
        self.out = w.shape[0]
        self.row_length = w[0].numel()
        self.grad = torch.zeros(w.shape, dtype=torch.float64, device=w.device)
        self.grad_sq = torch.zeros_like(self.grad)
        self.taylor = torch.zeros_like(self.grad)
        self.batches = 0
        # Input statistics need a well-defined im2col column j <-> weight column j; a grouped convolution's weight
        # columns address a different slice of the input per group, so they are skipped there (with a warning).
        self.has_inputs = not self.conv or module.groups == 1
        self.sum_sq = torch.zeros(self.row_length, dtype=torch.float64, device=w.device)
        self.rows, self.taken, self.samples, self.positions = [], 0, samples, positions
        self.generator = torch.Generator().manual_seed(seed)
        self.zeros = torch.zeros(self.out, dtype=torch.int64, device=w.device)
        self.values_per_unit = 0

    def tokens(self, x):
        """The layer input as [tokens, in·kh·kw] and the tokens per sample."""
        if not self.conv:
            return x.reshape(-1, x.shape[-1]), 1
        m = self.module
        if isinstance(m.padding, str):
            if m.padding != "valid":
                raise ValueError(f"sprune_stats: {self.name}: padding='{m.padding}' is not supported; use explicit padding")
            padding = (0, 0)
        else:
            padding = m.padding
        if m.padding_mode != "zeros":
            x = F.pad(x, m._reversed_padding_repeated_twice, mode=m.padding_mode)
            padding = (0, 0)
        if x.dim() == 3:
            x = x.unsqueeze(0)
        cols = F.unfold(x, m.kernel_size, dilation=m.dilation, padding=padding, stride=m.stride)  # [B, D, L]
        return cols.transpose(1, 2).reshape(-1, self.row_length), cols.shape[2]

    def add_input(self, x):
        if not self.has_inputs:
            return
        tokens, per_sample = self.tokens(x.detach())
        t = tokens.double()
        self.sum_sq += (t * t).sum(0)
        if self.taken >= self.samples:
            return
        if not self.conv:
            take = tokens[: self.samples - self.taken]
        else:
            picks = []
            for s in range(tokens.shape[0] // per_sample):
                if self.taken + len(picks) * self.positions >= self.samples:
                    break
                order = torch.randperm(per_sample, generator=self.generator)[: self.positions]
                picks.append(order + s * per_sample)
            take = tokens[torch.cat(picks).to(tokens.device)][: self.samples - self.taken] if picks else tokens[:0]
        self.rows.append(take.float().cpu().clone())
        self.taken += take.shape[0]

    def add_activation(self, y):
        # APoZ counts a value as zero when it is <= 0 (the library's ActivationAccumulator rule with threshold 0):
        # exact at a ReLU's output; at a pre-ReLU output the same count, as every a <= 0 becomes a zero.
        y = y.detach()
        channels = y.reshape(-1, self.out) if not self.conv else y.transpose(0, 1).reshape(self.out, -1).t()
        self.zeros += (channels <= 0).sum(0)
        self.values_per_unit += channels.shape[0]

    def add_gradient(self):
        w = self.module.weight
        if w.grad is None:
            g = torch.zeros_like(self.grad)   # the layer did not take part in this batch's loss
        else:
            g = w.grad.detach().double()
        self.grad += g
        self.grad_sq += g * g
        self.taylor += (g * w.detach().double()).abs()   # a float64 product of two floats is exact
        self.batches += 1

    def results(self):
        w, key = self.module.weight.detach(), self.name + ".weight"
        n = self.batches
        out = {key + ".grad": (self.grad / n).float(), key + ".taylor": (self.taylor / n).float(),
               key + ".fisher": (self.grad_sq / n).float()}
        if self.has_inputs:
            out[key + ".input_norm"] = self.sum_sq.sqrt().float()
        if self.values_per_unit > 0:
            out[key + ".apoz"] = (self.zeros.double() / self.values_per_unit).float()
        if self.has_inputs and self.taken > 0:
            x = torch.cat(self.rows)
            out[key + ".inputs"] = x
            out[key + ".targets"] = x @ w.float().cpu().reshape(self.out, -1).t()
        return out


def collect(model, loader, loss_fn, path, samples=1024, positions=8, seed=0, train=True, apoz="module"):
    """Runs the calibration batches through `model` and writes the statistics of every nn.Linear / nn.Conv2d weight
    to the safetensors file `path` (see the module's doc for each tensor). Returns the written tensors as a dict.

    loader     iterable of (input, target) batches (e.g. a DataLoader); moved to the weights' device.
    loss_fn    loss_fn(output, target) -> scalar loss of the batch (the mean, as F.cross_entropy gives).
    samples    at most this many rows of W.inputs / W.targets per layer.
    positions  output positions sampled per sample for a convolution's W.inputs.
    seed       seeds the position sampling (same seed, same rows).
    train      True: training-mode passes (BatchNorm on batch statistics), as the demo; False: eval mode.
    apoz       "module": APoZ at the output of the nn.ReLU module that the layer feeds, directly or through
               BatchNorm / Dropout / Identity modules (found by following the output tensor between modules, so a
               residual add before the ReLU breaks the chain and that layer gets no W.apoz). "output": the layer's
               own output counted <= 0, i.e. the zeros of relu(output), for a model that calls F.relu right after the
               layer (with a BatchNorm in between this would count before the BatchNorm: use "module" there).
    """
    if apoz not in ("module", "output"):
        raise ValueError("apoz must be 'module' or 'output'")
    layers = {}
    for name, module in model.named_modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d)):
            layers[module] = _Layer(name, module, samples, positions, seed)
            if not layers[module].has_inputs:
                print(f"sprune_stats: {name}: grouped convolution, no input_norm/inputs/targets written", file=sys.stderr)
    if not layers:
        raise ValueError("the model has no nn.Linear or nn.Conv2d")

    # Data flow for APoZ: output tensor of a layer (or of a pass-through module fed by it) -> that layer. Tensors are
    # held (not just their id) for one batch, so an id cannot be reused by another tensor meanwhile.
    flow = {}

    def follows(tensor):
        entry = flow.get(id(tensor))
        return entry[0] if entry is not None and entry[1] is tensor else None

    def on_layer(module, inputs, output):
        layers[module].add_input(inputs[0])
        if apoz == "output":
            layers[module].add_activation(output)
        else:
            flow[id(output)] = (layers[module], output)

    def on_pass_through(module, inputs, output):
        layer = follows(inputs[0])
        if layer is not None:
            flow[id(output)] = (layer, output)

    def on_relu(module, inputs, output):
        layer = follows(inputs[0])
        if layer is not None:
            layer.add_activation(output)

    handles = []
    for module in model.modules():
        if module in layers:
            handles.append(module.register_forward_hook(on_layer))
        elif apoz == "module" and isinstance(module, _PASS_THROUGH):
            handles.append(module.register_forward_hook(on_pass_through))
        elif apoz == "module" and isinstance(module, _RELU):
            handles.append(module.register_forward_hook(on_relu))

    modes = [(m, m.training) for m in model.modules()]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    grads = [(p, None if p.grad is None else p.grad.detach().clone()) for p in model.parameters()]
    device = next(model.parameters()).device
    try:
        model.train(train)
        for batch in loader:
            x, y = batch[0].to(device), batch[1].to(device)
            model.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            flow.clear()
            for layer in layers.values():
                layer.add_gradient()
    finally:
        for h in handles:
            h.remove()
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        for p, saved in grads:
            p.grad = saved
        for m, training in modes:
            m.training = training

    if next(iter(layers.values())).batches == 0:
        raise ValueError("the loader gave no batch")
    tensors = {}
    for layer in layers.values():
        tensors.update(layer.results())
    save_file(tensors, path, metadata={"format": "pt", "producer": "sprune_stats.collect"})
    return tensors


def save_file(tensors, path, metadata=None):
    """Writes {name: tensor} as a safetensors file (dtype kept; F32, F16, BF16, F64, integer and bool tensors)."""
    if sys.byteorder != "little":
        raise RuntimeError("safetensors is little-endian; this writer supports little-endian hosts only")
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in _DTYPES:
            raise ValueError(f"{name}: dtype {t.dtype} has no safetensors name here")
        size = t.numel() * t.element_size()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + size]}
        # The tensor's own bytes (CPU, contiguous), without numpy.
        blobs.append(ctypes.string_at(t.data_ptr(), size) if size else b"")
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def load_file(path):
    """Reads a safetensors file into {name: tensor} (CPU; the dtypes save_file writes)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + length].decode("utf-8"))
    body, tensors = 8 + length, {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = _TORCH_DTYPES[info["dtype"]]
        raw = bytearray(data[body + begin:body + end])
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"])
    return tensors


if __name__ == "__main__":
    print(__doc__)
