#!/usr/bin/env bash
# One process per GPU on N nodes of M GPUs (M = 8 here; change --ntasks-per-node with it):
#   sbatch --nodes=N launch/slurm.sh --config=configs/h2l.py --workdir=/shared/runs/h2l
# jaxsr.main sees SLURM_NTASKS > 1 and calls jax.distributed.initialize(), which takes the coordinator, process
# count and id from SLURM and gives each process the GPU of its SLURM_LOCALID. Each process reads only its part of
# every global batch; process 0 writes logs, all write their shards of each checkpoint (--workdir must be on a
# filesystem every node sees).
#
# One process per node instead (each driving all M GPUs): --ntasks-per-node=1 --gpus-per-task=8, and
# `export JAX_LOCAL_DEVICE_IDS=0,1,2,3,4,5,6,7` before srun (otherwise jax gives each process GPU 0 only).
#
# Staying power: --kill-on-bad-exit makes one failed task end the job instead of leaving the others waiting in a
# collective. --signal=TERM@120 asks for SIGTERM two minutes before the time limit; jax's preemption service
# passes it to every process, they agree on a step, save a checkpoint there and exit 0. Submit again (or use
# --requeue) with the same --workdir to resume.
#SBATCH --ntasks-per-node=8
#SBATCH --gpus-per-task=1
#SBATCH --cpus-per-task=8
#SBATCH --signal=TERM@120
set -euo pipefail
srun --kill-on-bad-exit=1 python -m jaxsr.main "$@"
