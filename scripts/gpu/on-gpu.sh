#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root the device tool copied there, once the payload
# is unpacked in /tmp/dev/gpu-payload (scripts/gpu/README.md). Writes everything into $OUT:
#   profile-detected.yaml  check-ep.jsonl  run.log  default.jsonl.xz  gpu-long.jsonl.xz  gpu-long-tf32.jsonl.xz
set -uo pipefail
P=${PAYLOAD:-/tmp/dev/gpu-payload}
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
[ -x "$P/node/bin/node" ] && [ -f "$P/dist/detbench.mjs" ] || { echo "on-gpu: no payload in $P: send every part first" >&2; exit 3; }
export PATH="$P/node/bin:$PATH"
export LD_LIBRARY_PATH="/usr/local/cuda-13.0/targets/x86_64-linux/lib:/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
detbench() { node "$P/dist/detbench.mjs" "$@"; }
log="$OUT/run.log"
: >"$log"
step() { echo "== $*" | tee -a "$log"; }

# Copies of the suites that read the model sent in the payload (the checkout may hold a partial one).
M="$P/models/detbench-tiny"
sed "s#^model: .*#model: $M#" suites/default.yaml >suites/.default-gpu.yaml
printf '  - id: cuda\n    type: node-cuda\n    options: { device_id: 0 }\n' >>suites/.default-gpu.yaml
sed "s#^model: .*#model: $M#" suites/gpu-long.yaml >suites/.gpu-long.yaml
nvidia-smi >>"$log" 2>&1

step profile
detbench profile -o "$OUT/profile-detected.yaml" 2>>"$log"
step check-ep
timeout 120 node scripts/gpu/check-ep.mjs "$P" "$M/onnx/model.onnx" >"$OUT/check-ep.jsonl" 2>>"$log"
cat "$OUT/check-ep.jsonl" >>"$log"

# The default suite plus a node-cuda runner (browser runners left out: no Chromium there).
step default
timeout 150 node "$P/dist/detbench.mjs" run suites/.default-gpu.yaml --profile h100-sxm --runner cpu-1t cpu-2t cuda -o "$OUT/default" >>"$log" 2>&1
step gpu-long
timeout 330 node "$P/dist/detbench.mjs" run suites/.gpu-long.yaml --profile h100-sxm --runner cpu-1t cpu-1t-fp16 cuda cuda-fp16 cuda-nondet -o "$OUT/gpu-long" >>"$log" 2>&1
step gpu-long-tf32
timeout 90 node "$P/dist/detbench.mjs" run suites/.gpu-long.yaml --profile h100-sxm --runner cpu-1t cuda-tf32 -o "$OUT/gpu-long-tf32" >>"$log" 2>&1

# Flatten and compress the results (the device tool returns at most 8 files of 16 MiB).
for r in default gpu-long gpu-long-tf32; do
  [ -f "$OUT/$r/results.jsonl" ] && xz -T0 -6 -c "$OUT/$r/results.jsonl" >"$OUT/$r.jsonl.xz" && rm -rf "$OUT/${r:?}"
done
step done
ls -la "$OUT" | tee -a "$log"
