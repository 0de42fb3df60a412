"""Pausing Python's cyclic garbage collector while the whole knowledge base is built or rendered.

Loading 10,000 papers creates hundreds of thousands of small objects that all stay alive (documents,
models, rows). The cyclic collector rescans every survivor again and again and finds nothing to free:
at 10,000 papers that was about a fifth of the run. Reference counting still frees everything as usual;
only the cycle search waits until the block ends, and the collector's previous state is restored.

At the end, what was made during the pause goes straight to the oldest generation (``gc.freeze()``
then ``gc.unfreeze()``, when nothing else had frozen objects): re-enabled as it was, the collector
would at once scan every one of those survivors as new (0.15 s of validating 10,000 papers), while in
the oldest generation they are seen by the next full collection, which is where garbage among them
is still found.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
