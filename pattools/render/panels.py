"""Figures of field panels laid out in whole pixels, built once and redrawn per frame.

Why whole pixels: every field (W × H cells) is drawn at an integer zoom z into an axes box
of exactly zW × zH pixels, so each cell is a z × z block of one colour with nothing
resampled: the picture shows the values as they are (a test compares it with the field
colour-mapped independently). Cells are drawn as the tokens count them: x grows to the
right, y grows downwards (row 0 at the top), as in patch ids "x0,y0,scale".

Why built once: laying out a figure (axes, ticks, colour bars, fonts) costs more than
drawing it. A Panels figure keeps its artists; each new frame only swaps the image data,
the colour-bar ranges and the titles, then the whole figure is drawn again, so a picture
drawn later in a run has the same bytes as one drawn first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pattools.render import colours
from pattools.render.backend import figure_bytes, new_figure, png_bytes

# margins in pixels at 100 dpi (scaled with --dpi)
_LEFT, _GAP, _BAR, _BAR_LABELS, _TITLE, _BOTTOM, _HEADER = 46, 8, 12, 54, 20, 30, 38


@dataclass(frozen=True)
class Scale:
    """How values become colours, and the colour bar that says so."""

    cmap: object  # a colour map name or a Colormap
    lo: float
    hi: float
    cyclic: bool = False
    ticks: tuple[float, ...] | None = None
    ticklabels: tuple[str, ...] | None = None
    label: str = ""
    fixed: bool = False  # the same for every frame: its colour bar is drawn once (Panels.rgb)

    def colormap(self):
        return colours.colormap(self.cmap) if isinstance(self.cmap, str) else self.cmap

    def colours(self, values: np.ndarray) -> np.ndarray:
        if self.cyclic:
            unit = colours.cyclic_unit(values, self.lo)
        else:
            unit = colours.linear_unit(values, self.lo, self.hi)
        return self.colormap()(unit, bytes=True)


@dataclass
class Panel:
    ax: object
    cax: object
    image: object
    mappable: object
    colorbar: object
    scale: Scale | None = None
    extras: list = field(default_factory=list)


class Panels:
    """rows × cols panels of W × H fields, each with a title and a colour bar."""

    def __init__(self, W: int, H: int, rows: int, cols: int, panel_px: int, dpi: float) -> None:
        s = dpi / 100.0
        px = {name: int(round(v * s)) for name, v in (("left", _LEFT), ("gap", _GAP), ("bar", _BAR),
              ("labels", _BAR_LABELS), ("title", _TITLE), ("bottom", _BOTTOM), ("header", _HEADER))}
        self.zoom = max(1, int(panel_px * s) // max(W, H))
        iw, ih = self.zoom * W, self.zoom * H
        cell_w = px["left"] + iw + px["gap"] + px["bar"] + px["labels"]
        cell_h = px["title"] + ih + px["bottom"]
        self.size = (cols * cell_w, px["header"] + rows * cell_h)
        self.W, self.H, self.rows, self.cols = W, H, rows, cols
        self._background = None  # the static parts, drawn (pattools.render.panels.Panels.rgb)
        self.fig = new_figure(self.size[0], self.size[1], dpi)
        fw, fh = self.size

        def box(x: int, top: int, w: int, h: int) -> list[float]:
            return [x / fw, 1.0 - (top + h) / fh, w / fw, h / fh]

        self.header = self.fig.text(0.5, 1.0 - 0.5 * px["header"] / fh, "", ha="center", va="center",
                                    fontsize=10, linespacing=1.3)
        self.panels: list[Panel] = []
        for r in range(rows):
            for c in range(cols):
                x, top = c * cell_w + px["left"], px["header"] + r * cell_h + px["title"]
                ax = self.fig.add_axes(box(x, top, iw, ih))
                cax = self.fig.add_axes(box(x + iw + px["gap"], top, px["bar"], ih))
                self.panels.append(self._panel(ax, cax, first_col=c == 0, last_row=r == rows - 1))

    def _panel(self, ax, cax, *, first_col: bool, last_row: bool) -> Panel:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize
        from matplotlib.ticker import MaxNLocator

        W, H = self.W, self.H
        image = ax.imshow(np.zeros((H, W, 4), dtype=np.uint8), extent=(0, W, H, 0), origin="upper",
                          interpolation="nearest", aspect="auto", resample=False, zorder=2)
        ax.set_axisbelow(True)  # tick marks point outwards and must not cover the edge cells
        ax.set_xlim(0, W)
        ax.set_ylim(H, 0)  # y grows downwards, as patch ids count
        for spine in ax.spines.values():
            spine.set_visible(False)  # a frame line would cover the outer cells
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        if last_row:
            ax.set_xlabel("x (cells) →", labelpad=1)
        if first_col:
            ax.set_ylabel("y (cells) ↓", labelpad=1)
        mappable = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=colours.colormap(colours.SEQUENTIAL))
        colorbar = self.fig.colorbar(mappable, cax=cax)
        return Panel(ax, cax, image, mappable, colorbar)

    def show(self, index: int, values: np.ndarray, scale: Scale, title: str) -> None:
        """Panel ``index`` shows ``values`` (H × W) through ``scale``."""
        panel = self.panels[index]
        panel.image.set_data(scale.colours(values))
        panel.ax.set_title(title, fontsize=9, pad=3)
        if scale != panel.scale:
            if panel.scale is not None and panel.scale.fixed:
                self._background = None  # that colour bar was part of it
            panel.mappable.set_cmap(scale.colormap())
            panel.mappable.set_clim(scale.lo, scale.hi)
            if scale.ticks is not None:
                panel.colorbar.set_ticks(list(scale.ticks), labels=list(scale.ticklabels or ()))
            else:
                from matplotlib.ticker import MaxNLocator

                panel.colorbar.locator = MaxNLocator(nbins=5)
                panel.colorbar.formatter = _formatter()
                panel.colorbar.update_ticks()
            panel.colorbar.set_label(scale.label, fontsize=8, labelpad=2)
            panel.scale = scale

    def hide(self, index: int) -> None:
        panel = self.panels[index]
        panel.ax.set_visible(False)
        panel.cax.set_visible(False)

    def outline(self, index: int, segments: list, style: str = "solid") -> None:
        """Draw line segments [((x0, y0), (x1, y1)), ...] in cell coordinates on a panel."""
        from matplotlib.collections import LineCollection

        panel = self.panels[index]
        lines = LineCollection(segments, colors="black", linewidths=1.4, linestyles=style, zorder=3)
        panel.ax.add_collection(lines)
        panel.extras.append(lines)

    def title(self, text: str) -> None:
        self.header.set_text(text)

    def _dynamic(self) -> list:
        """The artists a new frame changes (drawn over the cached background, in this order)."""
        out = [self.header]
        for panel in self.panels:
            out += [panel.image, *panel.extras, panel.ax.title]
            if panel.scale is None or not panel.scale.fixed:
                out.append(panel.cax)
        return out

    def rgb(self) -> np.ndarray:
        """The figure's pixels (uint8 H × W × 3). The parts no frame changes (axes, ticks and
        labels of the fields) are drawn once and kept; each call restores them and draws
        the changing artists over them: the same pixels as drawing the whole figure."""
        canvas = self.fig.canvas
        dynamic = self._dynamic()
        if self._background is None:
            for artist in dynamic:
                artist.set_animated(True)
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            for artist in dynamic:
                artist.set_animated(False)
        canvas.restore_region(self._background)
        for artist in dynamic:
            if artist.get_visible():
                self.fig.draw_artist(artist)
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()

    def encode(self, fmt: str) -> bytes:
        if fmt == "png":
            return png_bytes(self.rgb(), self.fig.dpi)
        return figure_bytes(self.fig, fmt)


def _formatter():
    from matplotlib.ticker import ScalarFormatter

    fmt = ScalarFormatter(useMathText=True)
    fmt.set_powerlimits((-3, 4))
    return fmt
