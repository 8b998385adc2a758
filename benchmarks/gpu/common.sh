# Sourced by the GPU-side scripts (measure.sh, campaign.sh), run from the repository root.
export TFDS_DATA_DIR=${TFDS_DATA_DIR:-/tmp/tfds} PYTHONUNBUFFERED=1
export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}
PYTHON=${PYTHON:-python3}

install_wheels() {  # the packages the GPU image lacks, from .whl/ (benchmarks/gpu/pack.sh); once per machine
  if [[ ! -f /tmp/site/.jaxsr_installed ]]; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    touch /tmp/site/.jaxsr_installed
  fi
  "$PYTHON" -c 'import jax; print("jax", jax.__version__, "on", jax.devices())'
}
