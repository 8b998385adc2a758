#!/usr/bin/env bash
# N training processes on this machine, for trying multi-process runs without a cluster (bash 5.1 or newer):
#   launch/local.sh 2 -- --config=configs/h2l.py:tiny --workdir=runs/mp
# Process i gets JAX_PROCESS_ID=i and, when the machine has at least N GPUs, GPU i; on CPU each process has the
# CPU devices XLA_FLAGS gives it. Everything after `--` goes to `python -m jaxsr.main` (PYTHON picks the
# interpreter). If one process fails, the others get SIGTERM and, GRACE_SECONDS (60) later, SIGKILL, so nobody
# waits forever in a collective. SIGTERM and Ctrl-C are passed on: every process saves a checkpoint and stops.
set -euo pipefail
if [[ $# -lt 1 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 N -- <jaxsr.main arguments>" >&2
  exit 2
fi
n=$1
shift
[[ ${1:-} == -- ]] && shift
python=${PYTHON:-python3}
port=${JAX_COORDINATOR_PORT:-$($python -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')}
gpus=$( (nvidia-smi -L 2>/dev/null || true) | grep -c '^GPU' || true)

pids=()
for ((i = 0; i < n; i++)); do
  if ((gpus >= n)); then export JAX_LOCAL_DEVICE_IDS=$i; fi
  JAX_COORDINATOR_ADDRESS=localhost:$port JAX_NUM_PROCESSES=$n JAX_PROCESS_ID=$i "$python" -m jaxsr.main "$@" &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null || true' TERM INT

status=0
running=$n
while ((running > 0)); do
  finished=
  if wait -n -p finished; then code=0; else code=$?; fi
  [[ -z $finished ]] && continue  # woken by a signal, not by a process ending
  running=$((running - 1))
  if ((code != 0 && status == 0)); then
    status=$code
    echo "launch/local.sh: process with pid $finished exited with $code; stopping the others" >&2
    kill -TERM "${pids[@]}" 2>/dev/null || true
    (sleep "${GRACE_SECONDS:-60}" && kill -KILL "${pids[@]}") </dev/null &>/dev/null &
    watchdog=$!
  fi
done
[[ -n ${watchdog:-} ]] && { pkill -P "$watchdog" || true; kill "$watchdog" 2>/dev/null || true; }
exit $status
