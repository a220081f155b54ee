"""EditReward (docs/score.md): features, faithfulness, drift, determinism, token metrics."""
