"""What every layer shares: images and metrics, losses, optimizers, configs, the train state, device meshes,
command-line plumbing and the readers of foreign weight files. Imports nothing else of jaxsr."""
