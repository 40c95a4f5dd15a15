#!/usr/bin/env bash
# Installs onnxruntime-node's CUDA execution provider libraries from the npm registry.
#
# onnxruntime-node 1.29.0 ships without its CUDA provider (too large for npm) and normally downloads
# it from NuGet at install time; where that host is unreachable, this script takes the same two
# libraries, built for onnxruntime 1.29.0 and CUDA 13, from the npm package
# com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 (~160 MB download, 230 MB installed) and copies
#   libonnxruntime_providers_cuda.so  libonnxruntime_providers_shared.so
# into node_modules/onnxruntime-node/bin/napi-v6/linux/x64/, with a marker
# (detbench-cuda-provider.json) recording where they came from; `detbench run` checks it.
#
# usage: scripts/install-cuda-provider.sh [--tgz FILE] [--dest DIR] [--remove]
#   --tgz FILE   use an already downloaded package tarball (npm pack output) instead of the registry
#   --dest DIR   install into DIR (default: the onnxruntime-node binding folder of this checkout)
#   --remove     delete the libraries and the marker from DIR again
#
# Alternative, where onnxruntime-node's own download host is reachable (CUDA 12 build, Microsoft's own package):
#   npm install onnxruntime-node@1.29.0 --onnxruntime-node-install=cuda12
#   (or ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node; this repo's .npmrc sets
#    onnxruntime-node-install=skip, so pass the flag explicitly)
#
# At run time the CUDA libraries the provider needs (libcudart.so.13, libcublas(Lt).so.13,
# libcurand.so.10, cuDNN 9) must be on LD_LIBRARY_PATH; `detbench run` names any that are missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tgz=""
dest=""
remove=0
while [ $# -gt 0 ]; do
  case $1 in
    --tgz) tgz=$(realpath "$2"); shift 2 ;;
    --dest) dest=$2; shift 2 ;;
    --remove) remove=1; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "install-cuda-provider: unknown argument $1" >&2; exit 2 ;;
  esac
done

ort_pkg="$root/node_modules/onnxruntime-node/package.json"
[ -f "$ort_pkg" ] || { echo "install-cuda-provider: $ort_pkg not found: run npm ci first" >&2; exit 1; }
ort_version=$(node -p "require('$ort_pkg').version")
dest=${dest:-"$root/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"}
libs=(libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so)
marker=detbench-cuda-provider.json

if [ "$remove" = 1 ]; then
  for f in "${libs[@]}" "$marker"; do rm -f "$dest/$f"; done
  echo "install-cuda-provider: removed the CUDA provider from $dest"
  exit 0
fi

# The provider must be built for exactly this onnxruntime version.
case $ort_version in
  1.29.0) pkg=com.github.asus4.onnxruntime.linux-x64-gpu; pkg_version=0.4.9; cuda=13 ;;
  *) echo "install-cuda-provider: no known npm package of the CUDA provider for onnxruntime-node $ort_version (known: 1.29.0)" >&2; exit 1 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$tgz" ]; then
  echo "install-cuda-provider: npm pack $pkg@$pkg_version (about 160 MB) ..."
  (cd "$work" && npm pack --silent "$pkg@$pkg_version" >/dev/null)
  tgz=$(ls "$work"/*.tgz)
fi
inside=package/Plugins/Linux/x64
tar -xzf "$tgz" -C "$work" package/package.json "${libs[@]/#/$inside/}"
got=$(node -p "const p=require('$work/package/package.json'); p.name+'@'+p.version")
[ "$got" = "$pkg@$pkg_version" ] || { echo "install-cuda-provider: $tgz is $got, expected $pkg@$pkg_version" >&2; exit 1; }

mkdir -p "$dest"
for f in "${libs[@]}"; do install -m 0755 "$work/$inside/$f" "$dest/$f"; done
node - "$dest" "$pkg" "$pkg_version" "$ort_version" "$cuda" "${libs[@]}" <<'JS'
const { createHash } = require('node:crypto');
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const [dest, pkg, version, onnxruntime, cuda, ...libs] = process.argv.slice(2);
const files = {};
for (const f of libs) {
  const data = readFileSync(join(dest, f));
  files[f] = { bytes: statSync(join(dest, f)).size, sha256: createHash('sha256').update(data).digest('hex') };
}
const marker = { package: pkg, version, onnxruntime, cuda, installedAt: new Date().toISOString(), files };
writeFileSync(join(dest, 'detbench-cuda-provider.json'), JSON.stringify(marker, null, 2) + '\n');
JS
echo "install-cuda-provider: installed $pkg@$pkg_version (onnxruntime $ort_version, CUDA $cuda) into $dest"
echo "  at run time: export LD_LIBRARY_PATH=<CUDA $cuda lib folder>:<cuDNN 9 lib folder>:\$LD_LIBRARY_PATH"
