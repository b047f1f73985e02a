"""Split one .safetensors file into N hub-style shards plus model.safetensors.index.json (stdlib only).

    python3 perf/shards/split.py MODEL.safetensors OUT_DIR N

Tensors keep their order; shard k gets a contiguous run of about 1/N of the data bytes. total_size is the sum of the
tensors' data sizes, as transformers/huggingface_hub write it.
"""
import json, os, struct, sys

src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, "rb") as f:
    (size,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(size))
    base = 8 + size
    meta = header.pop("__metadata__", None)
    names = sorted(header, key=lambda k: header[k]["data_offsets"][0])
    total = sum(header[k]["data_offsets"][1] - header[k]["data_offsets"][0] for k in names)
    groups, cur, acc = [], [], 0
    for k in names:
        cur.append(k)
        acc += header[k]["data_offsets"][1] - header[k]["data_offsets"][0]
        if acc >= total * (len(groups) + 1) / n and len(groups) < n - 1:
            groups.append(cur); cur = []
    groups.append(cur)
    os.makedirs(out, exist_ok=True)
    weight_map = {}
    for i, g in enumerate(groups):
        name = f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors"
        h, off = {}, 0
        if meta: h["__metadata__"] = meta
        for k in g:
            a, b = header[k]["data_offsets"]
            h[k] = {"dtype": header[k]["dtype"], "shape": header[k]["shape"], "data_offsets": [off, off + b - a]}
            off += b - a
            weight_map[k] = name
        hb = json.dumps(h, separators=(",", ":")).encode()
        hb += b" " * (-len(hb) % 8)
        with open(os.path.join(out, name), "wb") as w:
            w.write(struct.pack("<Q", len(hb))); w.write(hb)
            for k in g:
                a, b = header[k]["data_offsets"]
                f.seek(base + a)
                left = b - a
                while left:
                    chunk = f.read(min(left, 1 << 24)); w.write(chunk); left -= len(chunk)
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as w:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, w, indent=2)
