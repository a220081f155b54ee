"""A frame's tokens checked against the frame (docs/tokens.md §1): one token per patch of
its grid, in token order, each ``patchId`` "x,y,scale" of that patch, ``hdr.scale`` the
sim's scale, and every ``code.rvq`` as long as the codebook has dims.

Called by the validation of every frame reader (pattools.io.records and pat-replay's own
check) after the schema and the columnar checks, with the tokens as columns when the
columnar check took them, else as maps.
"""

from __future__ import annotations

from functools import lru_cache

from pattools.errors import DataError, describe
from pattools.tokens.codebook import DIMS
from pattools.tokens.frame import TokenFrame


@lru_cache(maxsize=16)
def _expected_ids(W: int, H: int, scale: int) -> tuple[str, ...]:
    from pattools.tokens.patches import patch_ids

    return tuple(patch_ids(W, H, scale))


def check_token_layout(sim: object, tokens: TokenFrame | list | None) -> None:
    """DataError (path ``tokens[i]...``) at the first token that does not fit the frame's grid."""
    if not isinstance(sim, dict) or not isinstance(tokens, (list, TokenFrame)):
        return  # the schema reports a missing or malformed sim block
    try:
        W, H, scale = int(sim["W"]), int(sim["H"]), int(sim["scale"])
        if W < 1 or H < 1 or scale not in (8, 16, 32, 64):
            return  # ditto
    except (KeyError, TypeError, ValueError):
        return  # ditto
    patches = -(-W // scale) * -(-H // scale)
    if patches != len(tokens):  # before building the expected ids: W and H are the input's word
        raise DataError(f"expected {patches} tokens (one per patch of the {W}x{H} grid at scale {scale}), "
                        f"got {len(tokens)}", path="tokens")
    expected = _expected_ids(W, H, scale)
    if isinstance(tokens, TokenFrame):
        ids, scales = tokens.patch_ids, tokens.scale.tolist()
        if tokens.rvq is None:
            dims = None
        elif tokens.rvq_len is None:
            dims = [tokens.rvq.shape[1]] * len(tokens)
        else:  # codes of different lengths, or on some tokens only
            dims = [None if length < 0 else length for length in tokens.rvq_len.tolist()]
    else:
        ids = [_get(token, "hdr", "patchId") for token in tokens]
        scales = [_get(token, "hdr", "scale") for token in tokens]
        dims = [None if rvq is None else len(rvq) for rvq in (_get(token, "code", "rvq") for token in tokens)]
    if tuple(ids) != expected:
        _report_ids(ids, expected, W, H, scale)
    if any(value != scale for value in scales):
        index = next(i for i, value in enumerate(scales) if value != scale)
        raise DataError(f"expected the sim's scale {scale}, got {describe(scales[index])}",
                        path=f"tokens[{index}].hdr.scale")
    if dims is not None and any(d is not None and d != DIMS for d in dims):
        index = next(i for i, d in enumerate(dims) if d is not None and d != DIMS)
        raise DataError(f"expected {DIMS} codes (the codebook's dims), got {dims[index]}",
                        path=f"tokens[{index}].code.rvq")


def _get(token: object, block: str, key: str) -> object:
    part = token.get(block) if isinstance(token, dict) else None
    return part.get(key) if isinstance(part, dict) else None


def _report_ids(ids: list, expected: tuple[str, ...], W: int, H: int, scale: int) -> None:
    for index, (found, wanted) in enumerate(zip(ids, expected)):
        if found != wanted:
            raise DataError(f"expected patchId {wanted!r} (token order of the {W}x{H} grid at scale {scale}), "
                            f"got {describe(found)}", path=f"tokens[{index}].hdr.patchId")
