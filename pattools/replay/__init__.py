"""pat-replay: token→field decoders and the replay driver (docs/replay.md)."""
