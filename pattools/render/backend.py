"""matplotlib, loaded lazily with the Agg backend, and saving figures as deterministic bytes.

Only pat-render imports this module, and only when it draws: the other commands, and
``pat-render --help``, never load matplotlib. matplotlib comes with the ``pattools[plot]``
extra; without it a command raises one UsageError line (exit 2) saying how to install it.

Deterministic bytes (CI diffs pictures): no software version or date in any format's
metadata, a fixed SVG id salt, and the fonts matplotlib ships with (same matplotlib and
freetype give the same pixels).
"""

from __future__ import annotations

import io
from types import ModuleType

from pattools.errors import UsageError

FORMATS = ("png", "svg", "pdf")
PNG_COMPRESSION = 3
INSTALL_HINT = "matplotlib is not installed; install the plot extra: pip install 'pattools[plot]'"

# per format: metadata keys that would otherwise carry a version or a date
_METADATA = {
    "png": {"Software": None},
    "svg": {"Creator": None, "Date": None, "Format": None, "Type": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None},
}
_RC = {
    "svg.hashsalt": "pattools",
    "svg.fonttype": "path",
    "pdf.compression": 6,
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 9.0,
    "axes.labelsize": 8.0,
    "xtick.labelsize": 7.0,
    "ytick.labelsize": 7.0,
    "image.interpolation": "nearest",
    "path.simplify": False,
}

_loaded: ModuleType | None = None


def matplotlib() -> ModuleType:
    """The matplotlib module, configured once for Agg and reproducible output."""
    global _loaded
    if _loaded is None:
        try:
            import matplotlib as mpl
        except ImportError:
            raise UsageError(INSTALL_HINT) from None
        mpl.use("Agg", force=True)
        mpl.rcParams.update(_RC)
        _loaded = mpl
    return _loaded


def new_figure(width_px: int, height_px: int, dpi: float):
    """A figure of exactly width_px × height_px pixels at ``dpi``, on an Agg canvas (no pyplot)."""
    matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def figure_bytes(fig, fmt: str) -> bytes:
    """The figure encoded as ``fmt`` (png, svg or pdf) without dates or versions."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown picture format {fmt!r} (expected one of {', '.join(FORMATS)})")
    if fmt == "png":
        return png_bytes(figure_rgb(fig), fig.dpi)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=fig.dpi, metadata=_METADATA[fmt])
    return buffer.getvalue()


def png_bytes(rgb, dpi: float) -> bytes:
    """An RGB PNG (figures are opaque: no alpha channel) with no text chunks at all; zlib
    level 3 is faster than the usual 6 for files a few per cent larger."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, format="PNG", compress_level=PNG_COMPRESSION, dpi=(dpi, dpi))
    return buffer.getvalue()


def figure_rgb(fig):
    """The figure drawn on its Agg canvas, as a uint8 H×W×3 array (for animations)."""
    import numpy as np

    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
