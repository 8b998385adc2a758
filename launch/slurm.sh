#!/usr/bin/env bash
# One process per GPU on N nodes:  sbatch --nodes=N --gpus-per-node=M launch/slurm.sh --config=configs/h2l.py --workdir=runs/h2l
# jaxsr.main sees SLURM_NTASKS > 1 and calls jax.distributed.initialize(), which reads the coordinator, process
# count and process id from SLURM; each process then reads only its shard of every global batch.
#SBATCH --ntasks-per-node=8
#SBATCH --gpus-per-task=1
#SBATCH --cpus-per-task=8
set -euo pipefail
srun python -m jaxsr.main "$@"
