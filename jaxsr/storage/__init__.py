"""How runs are kept on disk: the run record (config.json), orbax checkpoints and export folders."""
