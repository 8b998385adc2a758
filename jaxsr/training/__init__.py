"""The training runtime every method shares: the loop, the files a run reads at start-up, preemption,
summaries and the run directory's lock."""
