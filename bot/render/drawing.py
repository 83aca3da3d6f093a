"""Charts are drawn off the event loop, and what drawing them held is given back at once."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import ParamSpec

P = ParamSpec("P")


async def draw_png(draw: Callable[P, bytes], *args: P.args, **kwargs: P.kwargs) -> bytes:
    """`draw(*args, **kwargs)`, a function that draws a matplotlib chart as PNG, in a worker
    thread (drawing takes a fraction of a second of CPU).

    A matplotlib Figure and its artists refer to each other in cycles, so only the cyclic
    garbage collector frees a drawn chart, and after `gc.freeze()` its full collections
    are rare: a digest cycle, which draws a chart for each set of regions in a row, kept
    tens of MB of figures alive until one came. A collection right after drawing (a few
    ms; the frozen start-up objects are not traversed) frees each chart as it is done.
    """

    def draw_then_collect() -> bytes:
        png = draw(*args, **kwargs)  # the figure is garbage once draw() has returned
        gc.collect()
        return png

    return await asyncio.to_thread(draw_then_collect)
