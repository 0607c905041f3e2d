"""The text checker, reachable from every floor: `findings(account, text, where)`.

Proofreading lives in `content` (floor 3), but what it checks is written on every
floor: auto-replies, menus, guides, canned and case replies. Those apps call this module;
`content` registers the real checker in its `ready()` (its word lists, the rule
families, the dismissals). Nothing registered (a stripped-down installation, a unit
test of a lower app): nothing is found.

A checker that fails is reported as an error finding, never as a silent pass.

What the floors use: `require_clean` before a save (refuses with `TextRefused`, each
finding named; with 「忽略并保存」 it first dismisses the errors the page showed, through
`dismiss`, which `content` registers beside the checker: whoever reads the dismissals
writes them), `unconfirmed` before a reply to a citizen is sent (a veto always stops it;
an error only until the sender has seen it), `warn` after a save, with the warnings
`require_clean` found (each save checks its texts once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

log = logging.getLogger(__name__)

VETO, ERROR, WARNING = "veto", "error", "warning"
FAILED_RULE = "textcheck.failed"


@dataclass(frozen=True)
class Flag:
    """A finding in `text[start:end]`, as the registered checker reports it."""

    start: int
    end: int
    text: str
    family: str
    severity: str  # veto, error, warning
    message: str  # in Chinese, explaining the rule
    suggestion: str = ""
    rule: str = ""
    key: str = ""  # the finding's stable key (what a dismissal names)
    dismissed: bool = False  # a reviewer dismissed it in this very text

    @property
    def blocks(self) -> bool:
        """A veto always blocks; an error blocks until it is dismissed."""
        return self.severity == VETO or (self.severity == ERROR and not self.dismissed)


# (account, text, where) -> flags; `where` names what is checked ("reply_rule", "menu" …)
Checker = Callable[[Any, str, str], list[Flag]]
_checker: Checker | None = None


def register(checker: Checker | None) -> Checker | None:
    """Make `checker` the one the floors call (None: none). Returns the one it replaces."""
    global _checker
    before, _checker = _checker, checker
    return before


def registered() -> Checker | None:
    return _checker


def findings(account: Any, text: str, where: str) -> list[Flag]:
    """What the registered checker finds in `text` (no checker, or no text: nothing)."""
    checker = _checker
    if checker is None or not text:
        return []
    try:
        return list(checker(account, text, where))
    except Exception as exc:  # a checker that fails is reported, never passed
        log.exception("text check failed (%s)", where)
        return [
            Flag(
                0, 0, "", "", ERROR,
                f"校对检查未能运行：{type(exc).__name__} / the text check failed",
                rule=FAILED_RULE, key=FAILED_RULE,
            )
        ]  # fmt: skip


def blocking(account: Any, text: str, where: str) -> list[Flag]:
    """The findings that stop `text` from being saved or sent: vetoes, and errors no
    reviewer has dismissed."""
    return [f for f in findings(account, text, where) if f.blocks]


# ------------------------------------------------------------------ dismissals


class Dismisser(Protocol):
    """Records that a reviewer dismissed `finding` in exactly `text` (content's
    `dismiss_finding`); raises ValidationError or PermissionDenied."""

    def __call__(
        self, account: Any, finding: Any, text: str, reason: str, /, *, actor: Any
    ) -> Any: ...


_dismisser: Dismisser | None = None


def register_dismisser(dismisser: Dismisser | None) -> Dismisser | None:
    """Make `dismisser` the one that records dismissals (None: none). The app that
    registers the checker registers this too: the checker reads what it writes."""
    global _dismisser
    before, _dismisser = _dismisser, dismisser
    return before


def registered_dismisser() -> Dismisser | None:
    return _dismisser


def dismiss(account: Any, flag: Flag, text: str, reason: str, *, actor: Any) -> None:
    """A reviewer dismisses `flag` in exactly `text`, saying why: the checker then
    reports it as dismissed there. Refused (ValidationError) for a veto, a failed check,
    a blank reason or when nothing records dismissals; PermissionDenied without
    `proofread.dismiss`."""
    if flag.severity == VETO:
        raise ValidationError(_("否决项不能忽略，须修改文字：「%(text)s」") % {"text": flag.text})
    if flag.rule == FAILED_RULE:
        raise ValidationError(_("校对检查未能运行，不能忽略"))
    dismisser = _dismisser
    if dismisser is None:
        raise ValidationError(_("本系统没有启用校对，无法忽略"))
    dismisser(account, flag, text, reason, actor=actor)


# ------------------------------------------------------------------ what the floors use


@dataclass(frozen=True)
class Found:
    """A finding in one of the texts being saved or sent; `label` names that text
    (「回复 1」, 「事项名称」 …)."""

    label: str
    text: str
    flag: Flag

    @property
    def key(self) -> str:
        return self.flag.key

    @property
    def dismissable(self) -> bool:
        return self.flag.severity == ERROR and self.flag.rule != FAILED_RULE

    def __str__(self) -> str:
        return describe(self)


SEVERITY_LABELS = {
    VETO: gettext_lazy("否决"),
    ERROR: gettext_lazy("错误"),
    WARNING: gettext_lazy("提示"),
}


def describe(found: Found) -> str:
    """「【否决】回复 1：含有手机号码……：「13812345678」，建议：138****5678」: the finding
    with what it found and what to write instead."""
    f = found.flag
    head = f"【{SEVERITY_LABELS.get(f.severity, f.severity)}】"
    where = f"{found.label}：" if found.label else ""
    what = f"：「{f.text}」" if f.text else ""
    hint = _("，建议：%(s)s") % {"s": f.suggestion} if f.suggestion else ""
    return f"{head}{where}{f.message}{what}{hint}"


@dataclass(frozen=True)
class Dismiss:
    """「忽略并保存」 as posted: the keys of the errors the page showed, and why."""

    keys: frozenset[str]
    reason: str


KEY_FIELD, REASON_FIELD, DISMISS_FIELD, CONFIRM_FIELD = (
    "textcheck_key", "textcheck_reason", "textcheck_dismiss", "textcheck_confirm",
)  # fmt: skip


def posted_dismiss(post: Any) -> Dismiss | None:
    """The dismissal a form posted with 「忽略并保存」 (None: the plain save button)."""
    if not post.get(DISMISS_FIELD):
        return None
    return Dismiss(frozenset(post.getlist(KEY_FIELD)), " ".join(post.get(REASON_FIELD, "").split()))


def posted_confirm(post: Any) -> frozenset[str]:
    """The errors a reply's sender saw and chose to send anyway (「仍然发送」)."""
    return frozenset(post.getlist(KEY_FIELD)) if post.get(CONFIRM_FIELD) else frozenset()


class TextRefused(ValidationError):
    """A save or a send refused for what the checker found, each finding named; nothing
    was changed. `blocking` are the findings; a page offers 「忽略并保存」 when every one
    is an error that may be dismissed (`dismissable`)."""

    def __init__(self, blocking: Sequence[Found], extra: Sequence[str] = ()) -> None:
        self.blocking = list(blocking)
        self.extra = [str(m) for m in extra]
        super().__init__([*self.extra, *(describe(f) for f in self.blocking)])

    @property
    def vetoed(self) -> bool:
        return any(f.flag.severity == VETO for f in self.blocking)

    @property
    def dismissable(self) -> bool:
        """Every finding an error a reviewer may dismiss (「忽略并保存」)."""
        return bool(self.blocking) and all(f.dismissable for f in self.blocking)

    @property
    def keys(self) -> list[str]:
        """The keys of the errors shown (what 「忽略并保存」 and 「仍然发送」 post back)."""
        return list(dict.fromkeys(f.key for f in self.blocking if f.flag.severity != VETO))


Texts = Iterable[tuple[str, str]]  # (label, text)


def review(account: Any, texts: Texts, where: str) -> tuple[list[Found], list[Found]]:
    """The findings in each (label, text): those that block, and the warnings. A text
    given twice is checked once (each label named)."""
    checked: dict[str, list[Flag]] = {}
    blocking: list[Found] = []
    warnings: list[Found] = []
    for label, text in texts:
        if text not in checked:
            checked[text] = findings(account, text, where)
        for flag in checked[text]:
            if flag.blocks:
                blocking.append(Found(label, text, flag))
            elif flag.severity == WARNING:
                warnings.append(Found(label, text, flag))
    return blocking, warnings


def require_clean(
    account: Any,
    texts: Texts,
    where: str,
    *,
    dismissing: Dismiss | None = None,
    actor: Any = None,
    warnings: list[Found] | None = None,
) -> list[Found]:
    """Refuse (TextRefused) the texts while anything blocks them; their warnings
    otherwise, also added to `warnings` when given (the list a save hands back to its
    page for `warn`). With `dismissing` (「忽略并保存」), the errors among its keys are
    dismissed first, in the caller's transaction, when they are all that blocks: a veto,
    or an error the page did not show, dismisses nothing."""
    blocking, found = review(account, texts, where)
    if blocking:
        _dismiss_or_refuse(account, blocking, dismissing, actor)
    if warnings is not None:
        warnings.extend(found)
    return found


def _dismiss_or_refuse(
    account: Any, blocking: list[Found], dismissing: Dismiss | None, actor: Any
) -> None:
    """Dismiss what blocks, as `require_clean` says, or refuse (TextRefused)."""
    if dismissing is None:
        raise TextRefused(blocking)
    if not all(f.dismissable and f.key in dismissing.keys for f in blocking):
        raise TextRefused(blocking)
    if not dismissing.reason:
        raise TextRefused(blocking, [_("请填写忽略的理由")])
    try:
        for f in blocking:
            dismiss(account, f.flag, f.text, dismissing.reason, actor=actor)
    except PermissionDenied as exc:
        raise TextRefused(blocking, [_("您没有忽略校对提示的权限（proofread.dismiss）")]) from exc
    except ValidationError as exc:  # the reason too long, the text changed meanwhile …
        raise TextRefused(blocking, exc.messages) from exc


def unconfirmed(account: Any, texts: Texts, where: str, confirmed: Collection[str]) -> list[Found]:
    """For a reply to a citizen: refuse (TextRefused) on any veto, and on the errors the
    sender has not seen and chosen to send anyway (`confirmed`: their keys). Returns
    the errors sent anyway, for the record."""
    blocking, _warnings = review(account, texts, where)
    if any(f.flag.severity == VETO for f in blocking):
        raise TextRefused([f for f in blocking if f.flag.severity == VETO])
    if any(f.key not in confirmed for f in blocking):
        raise TextRefused(blocking)
    return blocking


def warn(request: Any, warnings: Iterable[Found]) -> None:
    """After a save: each warning `require_clean` found as a message on the next page."""
    from django.contrib import messages

    for found in warnings:
        messages.warning(request, _("已保存，校对提示：%(f)s") % {"f": describe(found)})


def masked(account: Any, text: str, where: str) -> str:
    """`text` with each veto the checker finds replaced by its suggestion (personal data
    masked: 138****5678): for what goes out with no one there to fix it, such as a
    template notice's fields."""
    out, before = text, len(text) + 1
    vetoes = [f for f in findings(account, text, where) if f.severity == VETO and f.suggestion]
    for f in sorted(vetoes, key=lambda f: f.start, reverse=True):
        if f.end <= before:  # overlapping findings: the first one masked wins
            out, before = out[: f.start] + f.suggestion + out[f.end :], f.start
    return out
