"""pat-replay: token→field decoders and the replay driver (spec/editing.md §5)."""
