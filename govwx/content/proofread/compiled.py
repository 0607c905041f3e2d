"""The typo family's modules (`lexicon`, `typos`) compiled, or as source.

`pip install` (`make`) compiles them with mypyc where a C compiler is at hand (setup.py):
an extension module beside each source, which Python imports in its place (the whole
checker about 1.8 times faster). Without a compiler the build skips them and they run as source.

The build records the sha256 of the sources it compiled (`RECORD`, beside them), once
they are built. A source that differs from its record (an edit or a checkout since `make`) means the
compiled module would run code that is no longer there: then both run as source, with a
warning, until the next `make`. GOVWX_PROOFREAD_COMPILED=0 runs them as source too (to
compare the two, or to debug). The two are compiled together (they call each other
directly), so they run compiled or as source together.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from collections.abc import Mapping
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Literal

PACKAGE = __name__.rpartition(".")[0]
HERE = Path(__file__).resolve().parent
MODULES = ("lexicon", "typos")
RECORD = "compiled-sources.txt"  # written by the build: "<sha256>  <module>.py" a line

State = Literal["compiled", "source", "stale", "off"]


def built(directory: Path, name: str) -> Path | None:
    """The compiled module `name` in `directory`, if there is one."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = directory / f"{name}{suffix}"
        if path.exists():
            return path
    return None


def digests(directory: Path) -> str:
    """The record of the sources in `directory` as they are now."""
    return "".join(
        f"{hashlib.sha256((directory / f'{name}.py').read_bytes()).hexdigest()}  {name}.py\n"
        for name in MODULES
    )


def state(directory: Path = HERE, environ: Mapping[str, str] | None = None) -> State:
    """How the modules in `directory` run: "off" (GOVWX_PROOFREAD_COMPILED=0), "source"
    (not compiled), "stale" (a source not the one compiled) or "compiled"."""
    flag = (os.environ if environ is None else environ).get("GOVWX_PROOFREAD_COMPILED", "1")
    if flag.strip().lower() in ("0", "false", "no", "off"):
        return "off"
    if any(built(directory, name) is None for name in MODULES):
        return "source"
    recorded = directory / RECORD
    if not recorded.exists() or recorded.read_text(encoding="utf-8") != digests(directory):
        return "stale"
    return "compiled"


class SourceFinder(importlib.abc.MetaPathFinder):
    """Finds `MODULES` as their source files, before the compiled ones are found."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != PACKAGE or name not in MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, HERE / f"{name}.py")


def choose() -> State:
    """Run the modules as source unless their compiled form is current (at the package's
    import, before either is imported)."""
    found = state()
    if found in ("stale", "off") and not any(isinstance(f, SourceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, SourceFinder())
    if found == "stale":
        warnings.warn(
            "proofreading: the typo family's source changed since it was compiled; it runs "
            "as source (slower) until `make` (pip install -e .) compiles it again",
            RuntimeWarning,
            stacklevel=2,
        )
    return found


def in_use() -> dict[str, bool]:
    """Whether each of `MODULES`, as imported, is compiled."""
    from . import lexicon, typos

    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return {
        m.__name__.rpartition(".")[2]: (m.__file__ or "").endswith(suffixes)
        for m in (lexicon, typos)
    }
