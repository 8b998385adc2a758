#!/usr/bin/env bash
# The GPU measurement in one command per part, run from the repository root on the GPU machine after
# benchmarks/gpu/pack.sh packed .whl/ here (the device tool carries it: carry=[".whl"]):
#
#   bash benchmarks/gpu/measure.sh setup        install the wheels into /tmp/site, render the datasets (idempotent)
#   bash benchmarks/gpu/measure.sh steps [CONFIGS]   train_step.py: compile s, images/s, MFU at BATCH_SIZES x PRECISIONS
#   bash benchmarks/gpu/measure.sh torch        torch_peer.py: the joint H2L + L2H step, jaxsr vs PyTorch eager/compile
#   bash benchmarks/gpu/measure.sh pipeline     input_pipeline.py with every core, against the step's rate
#   bash benchmarks/gpu/measure.sh all          all of the above (longer than one 10-minute device call: split it)
#
# Every part runs `setup` first (seconds when done already), so each can be its own device call. Tables are appended
# to $RESULTS (default $OUT/RESULTS.md, else benchmarks/RESULTS.md). VARIANT=:tiny and small BATCH_SIZES rehearse the
# script on a CPU. Nothing is downloaded: the GPU machine reaches no network.
set -euo pipefail
cd "$(dirname "$0")/../.."
part=${1:-all}
CONFIGS=${2:-${CONFIGS:-h2l,l2h_bicubic,degradation_sr,srresnet,srgan,fsrnet,sisr_vae,refsr_vae}}
BATCH_SIZES=${BATCH_SIZES:-32,256}
PRECISIONS=${PRECISIONS:-float32,bfloat16}
STEPS=${STEPS:-20}
VARIANT=${VARIANT:-}
RESULTS=${RESULTS:-${OUT:+$OUT/RESULTS.md}}
RESULTS=${RESULTS:-benchmarks/RESULTS.md}
source benchmarks/gpu/common.sh

setup() {
  install_wheels
  local embedded=default
  [[ $VARIANT == :tiny ]] && embedded=tiny
  "$PYTHON" -m jaxsr.data.build procedural_faces --config="$embedded"  # built once: 50,000 faces, all cores
  "$PYTHON" benchmarks/gpu/identity_faces.py --out=/tmp/procedural_ids  # identity_folder/celeba_ids for the VAEs
}

with_variant() {  # h2l,srresnet -> h2l:tiny,srresnet:tiny when VARIANT=:tiny
  echo "$1" | sed "s/\([^,]\+\)/\1$VARIANT/g"
}

steps() {
  "$PYTHON" benchmarks/train_step.py --configs="$(with_variant "$CONFIGS")" --batch_sizes="$BATCH_SIZES" \
    --precisions="$PRECISIONS" --steps="$STEPS" --results="$RESULTS"
}

torch_peer() {
  "$PYTHON" benchmarks/torch_peer.py --config="degradation_sr:yoon${VARIANT/:/,}" --batch_sizes="$BATCH_SIZES" \
    --precisions="$PRECISIONS" --steps="$STEPS" --results="$RESULTS"
}

input_pipeline() {
  local cores
  cores=$(nproc)
  "$PYTHON" benchmarks/input_pipeline.py --config="degradation_sr$VARIANT" --threads="1,$((cores / 2)),$cores" \
    --batch_size="${BATCH_SIZES##*,}" --precision="${PRECISIONS##*,}" --results="$RESULTS"
}

setup
case $part in
  setup) ;;
  steps) steps ;;
  torch) torch_peer ;;
  pipeline) input_pipeline ;;
  all) steps; torch_peer; input_pipeline ;;
  *) echo "unknown part '$part' (setup, steps, torch, pipeline, all)" >&2; exit 2 ;;
esac
echo "results: $RESULTS"
