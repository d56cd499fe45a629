"""Training: one trainer per module, shared checkpoint/resume/DDP plumbing, and held-out evaluation."""
