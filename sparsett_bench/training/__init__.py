"""Training SparseTT: pair sampling, crops, dense targets, losses, and the training loop."""
