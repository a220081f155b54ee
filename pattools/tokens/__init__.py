"""PAT token model: columnar frames, codebook, patch geometry, affect, TokenAtlas."""
