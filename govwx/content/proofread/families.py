"""Imports every rule family so that each registers itself in `FAMILIES`."""

from __future__ import annotations

from govwx.content.proofread import (  # noqa: F401
    formulation,
    names,
    numbers,
    personal,
    punctuation,
    tone,
    typos,
)
