"""Proofreading: one checker, many rule families, usable by every app.

`check(text, context)` returns every finding in the text, ordered by position. Each
family is a function `(text, context) -> list[Finding]` registered in `FAMILIES`; the
families are pure (no database): what an account knows (its departments, places,
leaders, public numbers, lists of formulations and words to avoid) arrives in a
`Context`, built from the database by the caller (`context_for(account)`, later).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import compiled

# The typo family runs compiled where it was compiled and is current (compiled.py).
compiled.choose()

# The shipped lists and data (data/README.md). Here, not in the modules that read them:
# those are compiled (setup.py), and a compiled module's __file__ is not where it lies.
DATA = Path(__file__).resolve().parent / "data"

VETO, ERROR, WARNING = "veto", "error", "warning"
SEVERITIES = (VETO, ERROR, WARNING)

TYPO = "typo"
PUNCTUATION = "punctuation"
NUMBER = "number"
PERSONAL_DATA = "personal_data"
FORMULATION = "formulation"
AVOID = "avoid"
NAME = "name"
TONE = "tone"
FAMILY_NAMES = (TYPO, PUNCTUATION, NUMBER, PERSONAL_DATA, FORMULATION, AVOID, NAME, TONE)


@dataclass(frozen=True)
class Finding:
    """What a rule found: `text[start:end]` (character offsets into the checked text)."""

    start: int
    end: int
    text: str
    family: str
    severity: str
    message: str  # in Chinese, explaining the rule
    suggestion: str = ""
    rule: str = ""  # a stable name of the rule (a dismissal and the report name it)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if self.family not in FAMILY_NAMES:
            raise ValueError(f"unknown family {self.family!r}")
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad span {self.start}..{self.end}")

    def as_json(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "family": self.family,
            "severity": self.severity,
            "message": self.message,
            "suggestion": self.suggestion,
        }


def finding_at(
    text: str, start: int, end: int, family: str, severity: str, rule: str, message: str,
    suggestion: str = "",
) -> Finding:  # fmt: skip
    """The finding of `text[start:end]` by a family's rule (named `family.rule`)."""
    return Finding(
        start=start, end=end, text=text[start:end], family=family, severity=severity,
        message=message, suggestion=suggestion, rule=f"{family}.{rule}",
    )  # fmt: skip


@dataclass(frozen=True)
class Leader:
    name: str
    title: str = ""  # e.g. 市长, 副市长


@dataclass(frozen=True)
class Formulation:
    standard: str  # the fixed formulation or official name, e.g. 人民代表大会制度
    note: str = ""


@dataclass(frozen=True)
class AvoidWord:
    word: str
    reason: str
    suggestion: str = ""


@dataclass(frozen=True)
class Context:
    """What the checker knows beyond the text. Empty by default: the command line
    without --account, and every family must work with it."""

    names: tuple[str, ...] = ()  # departments, offices, services, the account's own name
    places: tuple[str, ...] = ()  # places of the account's area (for typos and locality)
    national_places: tuple[str, ...] = ()  # places outside the area (locality's other side)
    leaders: tuple[Leader, ...] = ()
    public_numbers: tuple[str, ...] = ()  # hotlines and office phones that may be published
    formulations: tuple[Formulation, ...] = ()
    avoid: tuple[AvoidWord, ...] = ()
    misused: tuple[tuple[str, str, str], ...] = ()  # extra (wrong, right, note) pairs
    extra: dict[str, object] = field(default_factory=dict, hash=False, compare=False)


Family = Callable[[str, Context], list[Finding]]
FAMILIES: dict[str, Family] = {}


def family(name: str) -> Callable[[Family], Family]:
    """Register a rule family (a decorator)."""

    def register(fn: Family) -> Family:
        FAMILIES[name] = fn
        return fn

    return register


def check(text: str, context: Context | None = None) -> list[Finding]:
    """Every finding of every family in `text`, by position then severity."""
    from govwx.content.proofread import families  # noqa: F401  (registers them)

    context = context or Context()
    found: list[Finding] = []
    for fn in FAMILIES.values():
        found.extend(fn(text, context))
    order = {VETO: 0, ERROR: 1, WARNING: 2}
    return sorted(set(found), key=lambda f: (f.start, f.end, order[f.severity], f.family))
