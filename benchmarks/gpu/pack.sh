#!/usr/bin/env bash
# Packs what the GPU machine needs and lacks into .whl/ (git-ignored), to travel with the working tree: Python 3.12
# x86-64 wheels of benchmarks/gpu/wheels.txt (a pure-Python package published only as source is built here).
# The datasets are not packed: benchmarks/gpu/measure.sh renders them there, deterministically.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .whl
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
         manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
grep -v '^#' benchmarks/gpu/wheels.txt | while read -r requirement; do
  [[ -z "$requirement" ]] && continue
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" -d .whl "$requirement" 2>/dev/null \
    || python3 -m pip wheel -q --no-deps -w .whl "$requirement"
done
echo "packed $(ls .whl | wc -l) wheels, $(du -sh .whl | cut -f1), into .whl/"
