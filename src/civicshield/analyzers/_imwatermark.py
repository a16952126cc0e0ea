"""Load the reference ``invisible-watermark`` decoder without PyTorch.

invisible-watermark 0.2.0 imports ``torch`` when the package is imported, only for its ``rivaGan`` method. We
use the ``dwtDct`` method (numpy, OpenCV and PyWavelets only) and install the package with ``--no-deps``, so
when torch is absent we register a placeholder for that one submodule and import the package again. A missing
``imwatermark`` itself still raises ``ImportError``, which the registry reports as a named load failure.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["WatermarkDecoder"]


class _RivaGanUnavailable:
    """Stands in for ``imwatermark.rivaGan.RivaWatermark``, whose method needs the absent torch."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("the rivaGan watermark method needs torch, which is not installed")

    @classmethod
    def loadModel(cls) -> None:
        raise RuntimeError("the rivaGan watermark method needs torch, which is not installed")


def _load() -> Any:
    try:
        from imwatermark import WatermarkDecoder as decoder
    except ModuleNotFoundError as exc:
        if exc.name != "torch":
            raise
        placeholder = types.ModuleType("imwatermark.rivaGan")
        placeholder.RivaWatermark = _RivaGanUnavailable  # type: ignore[attr-defined]
        sys.modules.setdefault("imwatermark.rivaGan", placeholder)
        from imwatermark import WatermarkDecoder as decoder
    return decoder


WatermarkDecoder: Any = _load()


def encoder_class() -> Any:
    """The reference ``WatermarkEncoder`` (for the demo set and tests), importable once ``_load`` ran."""
    import imwatermark

    return imwatermark.WatermarkEncoder
