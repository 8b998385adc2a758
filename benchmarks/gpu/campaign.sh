#!/usr/bin/env bash
# The training campaign: the flagship methods at full width on real faces, measured on held-out faces and
# exported for pretrained/. From the repository root:
#
#   bash benchmarks/gpu/campaign.sh pack         HERE: wheels into .whl/ (pack.sh) and the face sets into .campaign/
#                                                (both git-ignored; 45 MB, within the 64 MiB a device call carries)
#   bash benchmarks/gpu/campaign.sh degradation  THERE: H2L on celeba_hr + wider_lr, L2H on H2L's degradations,
#                                                L2H on bicubic pairs; MINUTES of training each (default 1.5)
#   bash benchmarks/gpu/campaign.sh srresnet     THERE: SRResNet x4 on bicubic pairs of celeba_hr (MINUTES, default 5)
#   bash benchmarks/gpu/campaign.sh unpack DIR   HERE: the parts a device call brought back, unpacked into DIR
#
# A device call: run(command="bash benchmarks/gpu/campaign.sh degradation", carry=[".whl", ".campaign"]), one part
# per call. A call is at most 10 minutes: about 2 for installing, building the datasets and compiling, the
# training (3 x MINUTES for degradation), about 1 for measuring and exporting. While the machine stays warm, the
# same call again resumes every run for another MINUTES (the runs stay in runs/campaign there) and re-exports them.
# The held-out splits are the ones benchmarks/degradation.py and paired_sr.py measure (celeba_hr: 6% by file hash;
# wider_lr: 11.1%). A part writes the RESULTS.md rows, the grids, each run's metrics.jsonl and config.json, and the
# generators exported in bfloat16 (jaxsr.export, 15 MiB shards) into one tar, split into $OUT/campaign-<part>.tar.*
# of 15 MiB (the device tool brings back 8 files of 16 MiB). The H2L run itself (148 MB with its optimizer state)
# stays there: it is not a super-resolver and does not fit.
#
# Rehearsal on a CPU: OUT=/tmp/out MINUTES=0.2 WIDTH_DIVISOR=8 bash benchmarks/gpu/campaign.sh degradation
set -euo pipefail
cd "$(dirname "$0")/../.."
part=${1:?usage: campaign.sh pack|degradation|srresnet|unpack DIR}
OUT=${OUT:-/tmp/campaign_out}
WIDTH_DIVISOR=${WIDTH_DIVISOR:-1}
DATA=${CAMPAIGN_DATA:-../shared/data}
RUNS=runs/campaign
STAGE=/tmp/campaign_stage/$part

pack() {
  bash benchmarks/gpu/pack.sh
  mkdir -p .campaign
  for set in celeba_hr wider_lr; do
    rm -rf ".campaign/$set" && cp -r "$DATA/$set" ".campaign/$set"
  done
  echo "packed .campaign/: $(du -sh --apparent-size .campaign | cut -f1); with .whl/: $(du -csh --apparent-size .campaign .whl | tail -1 | cut -f1) (the device carries 64 MiB)"
}

setup() {
  source benchmarks/gpu/common.sh
  install_wheels
  "$PYTHON" -m jaxsr.data.build face_folder --path=.campaign/celeba_hr --name=celeba_hr --crop=12,22,64,64 \
    --test_fraction=0.06 --data_dir="$TFDS_DATA_DIR"
  "$PYTHON" -m jaxsr.data.build lr_face_folder --path=.campaign/wider_lr --name=wider --test_fraction=0.111 \
    --data_dir="$TFDS_DATA_DIR"
  rm -rf "$STAGE" && mkdir -p "$STAGE" "$OUT"
}

export_run() {  # export_run RUN NAME: the run's generator in bfloat16 into the stage
  "$PYTHON" -m jaxsr.export --run="$1" --out="$STAGE/pretrained/$2" --dtype=bfloat16 --shard_mb=15
}

bring_back() {  # everything staged, as <=15 MiB parts in $OUT
  for run in "$RUNS/$part"/*/; do
    mkdir -p "$STAGE/runs/$(basename "$run")"
    cp "$run"/config.json "$run"/metrics.jsonl "$STAGE/runs/$(basename "$run")/" 2>/dev/null || true
  done
  cp "$RUNS/$part"/*.png "$STAGE/" 2>/dev/null || true
  tar -cf - -C "$STAGE" . | split -b 15m - "$OUT/campaign-$part.tar."
  ls -la "$OUT"
}

degradation() {
  setup
  "$PYTHON" benchmarks/degradation.py --data_dir="$TFDS_DATA_DIR" --workdir="$RUNS/degradation" \
    --steps=h2l:1000000,l2h:1000000,l2h_bicubic:1000000 --train_minutes="${MINUTES:-1.5}" \
    --width_divisor="$WIDTH_DIVISOR" --results="$STAGE/RESULTS.md"
  export_run "$RUNS/degradation/l2h" l2h_x4
  export_run "$RUNS/degradation/l2h_bicubic" l2h_bicubic_x4
  bring_back
}

srresnet() {
  setup
  "$PYTHON" benchmarks/paired_sr.py --data_dir="$TFDS_DATA_DIR" --dataset=face_folder/celeba_hr \
    --workdir="$RUNS/srresnet" --steps=srresnet:1000000 --train_minutes="${MINUTES:-5}" \
    --results="$STAGE/RESULTS.md"
  export_run "$RUNS/srresnet/srresnet" srresnet_x4
  bring_back
}

unpack() {  # unpack DIR: every campaign-<part>.tar.* in DIR (a device call's files_at) into campaign_results/
  local dir=${1:?usage: campaign.sh unpack DIR}
  mkdir -p campaign_results
  for first in "$dir"/campaign-*.tar.aa; do
    cat "${first%.aa}".* | tar -xf - -C campaign_results/
  done
  echo "unpacked into campaign_results/: $(ls campaign_results)"
}

case $part in
  pack) pack ;;
  degradation) degradation ;;
  srresnet) srresnet ;;
  unpack) unpack "${2:-}" ;;
  *) echo "unknown part '$part' (pack, degradation, srresnet, unpack DIR)" >&2; exit 2 ;;
esac
