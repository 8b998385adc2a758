"""Using a trained run or export: loading its super-resolving network for inference."""
