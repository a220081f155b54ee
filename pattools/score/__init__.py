"""EditReward (spec/editing.md §6): features, faithfulness, drift, determinism, token metrics."""
