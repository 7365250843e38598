#!/usr/bin/env bash
# Regenerates the seed corpus fuzz/corpus/<target>/ from the repository's own files:
# the example projects, small IDX and CIFAR-10 files written here, and a checkpoint,
# a Brevitas state dict, a packed model and two ONNX exports of fuzz/tiny.qnn.json
# made with the `qnn` CLI (1 epoch of 2 batches on the Fashion-MNIST of the project).
#   fuzz/make_corpus.sh [QNN_CLI]    (default: build/app/qnn)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
qnn=${1:-$root/build/app/qnn}
c=$here/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$c"/{project_loader,idx_reader,cifar_reader,checkpoint_loader,weights_loader,packed_model,onnx_import}

cp "$root"/resources/examples/*.qnn.json "$here/tiny.qnn.json" "$c/project_loader/"

python3 - "$c" <<'PY'
import gzip, struct, sys
c = sys.argv[1]
imgs = struct.pack(">IIII", 0x803, 3, 4, 4) + bytes(range(48))
labels = struct.pack(">II", 0x801, 3) + bytes([0, 7, 9])
open(f"{c}/idx_reader/images-idx3-ubyte", "wb").write(imgs)
open(f"{c}/idx_reader/labels-idx1-ubyte", "wb").write(labels)
open(f"{c}/idx_reader/images-idx3-ubyte.gz", "wb").write(gzip.compress(imgs, mtime=0))
rec = lambda label: bytes([label]) + bytes((i * 7 + label) % 256 for i in range(3072))
open(f"{c}/cifar_reader/data_batch_2.bin", "wb").write(rec(3) + rec(9))
open(f"{c}/cifar_reader/data_batch_1.bin", "wb").write(rec(0))
PY

"$qnn" train "$here/tiny.qnn.json" --threads 1 --train-limit 64 --test-limit 32 --max-batches 2 \
  --checkpoint "$tmp/tiny.pt" >/dev/null
"$qnn" export "$here/tiny.qnn.json" --checkpoint "$tmp/tiny.pt" --format packed --out "$tmp/tiny.qpk" >/dev/null
"$qnn" export "$here/tiny.qnn.json" --checkpoint "$tmp/tiny.pt" --format qonnx --out "$tmp/tiny_qonnx.onnx" >/dev/null
"$qnn" export "$here/tiny.qnn.json" --checkpoint "$tmp/tiny.pt" --format qcdq --out "$tmp/tiny_qcdq.onnx" >/dev/null
"$qnn" export "$here/tiny.qnn.json" --checkpoint "$tmp/tiny.pt" --format brevitas --out "$tmp/brevitas" >/dev/null
cp "$tmp/tiny.pt" "$c/checkpoint_loader/tiny.pt"
cp "$tmp/tiny.pt" "$c/weights_loader/tiny_checkpoint.pt"
cp "$tmp/brevitas/model.pt" "$c/weights_loader/tiny_brevitas_state_dict.pt"
cp "$tmp/tiny.qpk" "$c/packed_model/tiny.qpk"
cp "$tmp/tiny_qonnx.onnx" "$tmp/tiny_qcdq.onnx" "$c/onnx_import/"
du -sh "$c"
