#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root the device tool copied there, once the payload
# is unpacked in /tmp/dev/gpu-payload (scripts/gpu/README.md). Two stages, one device call each
# (a call may run 10 minutes); everything lands in $OUT, flat, results xz-compressed:
#   on-gpu.sh first   nvidia-smi.txt profile-detected.yaml check-ep.jsonl default.jsonl.xz first.log
#   on-gpu.sh long    gpu-long.jsonl.xz gpu-long-tf32.jsonl.xz long.log
# A stage cut off by its timeout keeps the records written so far (one JSONL line per cell).
set -uo pipefail
stage=${1:?usage: on-gpu.sh first|long}
P=${PAYLOAD:-/tmp/dev/gpu-payload}
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
[ -x "$P/node/bin/node" ] && [ -f "$P/dist/detbench.mjs" ] || { echo "on-gpu: no payload in $P: send every part first" >&2; exit 3; }
export PATH="$P/node/bin:$PATH"
export LD_LIBRARY_PATH="/usr/local/cuda-13.0/targets/x86_64-linux/lib:/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
log="$OUT/$stage.log"
: >"$log"
step() { echo "== $* ($(date +%T))" | tee -a "$log"; }
# detbench from the bundle; each run gets a time limit so the stage ends inside the call's 10 minutes.
detbench() { local limit=$1; shift; timeout "$limit" node "$P/dist/detbench.mjs" "$@" >>"$log" 2>&1; echo "exit $?" >>"$log"; }
pack() { [ -f "$OUT/$1/results.jsonl" ] && xz -T0 -6 -c "$OUT/$1/results.jsonl" >"$OUT/$1.jsonl.xz" && rm -rf "$OUT/${1:?}"; }

# Copies of the suites that read the model sent in the payload (the checkout may hold a partial one).
M="$P/models/detbench-tiny"
sed "s#^model: .*#model: $M#" suites/default.yaml >suites/.default-gpu.yaml
printf '  - id: cuda\n    type: node-cuda\n    options: { device_id: 0 }\n' >>suites/.default-gpu.yaml
sed "s#^model: .*#model: $M#" suites/gpu-long.yaml >suites/.gpu-long.yaml

case $stage in
  first)
    nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1
    step profile
    detbench 60 profile -o "$OUT/profile-detected.yaml"
    step check-ep
    timeout 120 node scripts/gpu/check-ep.mjs "$P" "$M/onnx/model.onnx" >"$OUT/check-ep.jsonl" 2>>"$log"
    cat "$OUT/check-ep.jsonl" >>"$log"
    # The default suite plus a node-cuda runner (its browser runners left out: no Chromium there).
    step default
    detbench 300 run suites/.default-gpu.yaml --profile h100-sxm --runner cpu-1t cpu-2t cuda -o "$OUT/default"
    pack default
    ;;
  long)
    step gpu-long
    detbench 420 run suites/.gpu-long.yaml --profile h100-sxm --runner cpu-1t cpu-1t-fp16 cuda cuda-fp16 cuda-nondet -o "$OUT/gpu-long"
    # TF32 on cannot share a process with TF32 off (NVIDIA_TF32_OVERRIDE is process-wide).
    step gpu-long-tf32
    detbench 120 run suites/.gpu-long.yaml --profile h100-sxm --runner cpu-1t cuda-tf32 -o "$OUT/gpu-long-tf32"
    pack gpu-long
    pack gpu-long-tf32
    ;;
  *) echo "on-gpu: unknown stage $stage (first|long)" >&2; exit 2 ;;
esac
step done
ls -la "$OUT" | tee -a "$log"
