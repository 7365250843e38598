#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs a QNN Studio "Export to Brevitas" folder in real Brevitas on the Fashion-MNIST
test set and prints its accuracy, to compare with `qnn eval` of the same checkpoint.

Not used by the tests (they need no Python torch). Needs PyTorch and Brevitas 0.12.1
importable, e.g. Debian's python3-torch and a Brevitas source tree on PYTHONPATH
(README "Export to Brevitas").

    python3 tools/brevitas_check.py DIR [--pad 2] [--normalize]
                                        [--data /usr/share/datasets/fashion-mnist]
"""
import argparse
import gzip
import importlib.util
import os

import numpy as np
import torch


def read_idx(folder, stem):
    for ext in ("", ".gz"):
        path = os.path.join(folder, stem + ext)
        if os.path.exists(path):
            with (gzip.open if ext else open)(path, "rb") as f:
                return f.read()
    raise SystemExit(f"{stem}[.gz] not found in {folder}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", help="the folder `qnn export --format brevitas` wrote")
    ap.add_argument("--pad", type=int, default=2, help="zero padding per side (the project's dataset pad)")
    ap.add_argument("--normalize", action="store_true", help="(x - 0.286) / 0.353 as the project's normalize")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    a = ap.parse_args()
    images = read_idx(a.data, "t10k-images-idx3-ubyte")
    labels = read_idx(a.data, "t10k-labels-idx1-ubyte")
    n = int.from_bytes(images[4:8], "big")
    x = torch.tensor(np.frombuffer(images[16:], dtype=np.uint8).reshape(n, 1, 28, 28).astype(np.float32) / 255.0)
    y = torch.tensor(np.frombuffer(labels[8:], dtype=np.uint8).astype(np.int64))
    if a.pad:
        x = torch.nn.functional.pad(x, (a.pad,) * 4)
    if a.normalize:
        x = (x - 0.286) / 0.353
    spec = importlib.util.spec_from_file_location("qnn_model", os.path.join(a.folder, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = [v for k, v in vars(module).items()
               if isinstance(v, type) and issubclass(v, torch.nn.Module) and v.__module__ == "qnn_model"
               and not k.startswith("Frozen")]
    net = classes[0]()
    print(net.load_state_dict(torch.load(os.path.join(a.folder, "model.pt"))))
    net.eval()
    with torch.no_grad():
        out = net(x)
        out = out.value if hasattr(out, "value") else out
    print("brevitas test_accuracy=%.4f" % (out.argmax(1) == y).float().mean().item())


if __name__ == "__main__":
    main()
