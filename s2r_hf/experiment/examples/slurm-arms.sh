#!/bin/bash
# Hardware: a Slurm cluster, one node (8 GPUs) per arm. Each arm of an experiment is one task of a job array; a job
# before it scores the pool, a job after it writes the report. Submit the three with their dependencies:
#
#   EXP=paper-7b        # an experiment file, or a shipped example's name
#   N=$(s2r experiment plan $EXP --format arms | wc -l)
#   pool=$(sbatch --parsable --gpus-per-node=8 --wrap "s2r experiment run $EXP --step pool")
#   arms=$(sbatch --parsable --dependency=afterok:$pool --array=0-$((N - 1)) slurm-arms.sh $EXP)
#   sbatch --dependency=afterok:$arms --wrap "s2r experiment report OUTPUT"      # OUTPUT: the experiment's folder
#
# A task that is killed or requeued runs the same command again and resumes (steps done are skipped, training goes on
# from its last checkpoint). Put --set KEY=VALUE overrides after the experiment, the same in all three jobs.
#SBATCH --job-name=s2r-arm
#SBATCH --nodes=1
#SBATCH --gpus-per-node=8
#SBATCH --exclusive
#SBATCH --time=72:00:00
#SBATCH --requeue
#SBATCH --output=s2r-arm-%A-%a.log
set -euo pipefail
EXPERIMENT=${1:?usage: sbatch --array=0-N slurm-arms.sh EXPERIMENT [--set KEY=VALUE ...]}
shift
mapfile -t ARMS < <(s2r experiment plan "$EXPERIMENT" "$@" --format arms)
ARM=${ARMS[${SLURM_ARRAY_TASK_ID:?run this script as a job array: sbatch --array=0-N}]}
echo "s2r experiment: arm ${ARM} of ${EXPERIMENT} on $(hostname)"
# select -> train (the experiment's train.launcher, e.g. accelerate launch over this node's GPUs) -> evaluate
srun --ntasks=1 s2r experiment run "$EXPERIMENT" "$@" --only "$ARM"
