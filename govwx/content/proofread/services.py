"""Writes of proofreading: the word lists (`add_entry`, `retire_entry`, `import_entries`),
dismissals (`dismiss_finding`, `is_dismissed`) and the report's records
(`record_findings`); and `text_flags`, the checker every floor reaches through
`govwx.lib.textcheck` (registered by the app's `ready()`).

An account's lists are kept by its admins and reviewers (`proofread.manage`); the
installation's own (no account) by the superuser only. Findings are dismissed by
reviewers and admins (`proofread.dismiss`), with a reason. Every write is audited.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govwx.accounts import permissions
from govwx.accounts.models import Account
from govwx.accounts.services import record
from govwx.content.models import Dismissal, FindingRecord, ProofEntry
from govwx.lib import textcheck

from . import ERROR, VETO, check
from .context import bump, context_for

MANAGE = "proofread.manage"
DISMISS = "proofread.dismiss"
Kind = ProofEntry.Kind
Where = FindingRecord.Where

TEXT_MAX = 100
EXTRA_MAX = 100
NOTE_MAX = 200
REASON_MAX = 500
FOUND_MAX = 200
IMPORT_MAX_LINES = 2000

# What `extra` holds for each kind (the kinds not named have none).
EXTRA_LABELS: dict[str, Any] = {
    Kind.AVOID: gettext_lazy("建议改为"),
    Kind.MISUSED: gettext_lazy("正确写法"),
    Kind.LEADER: gettext_lazy("职务"),
    Kind.PUBLIC_NUMBER: gettext_lazy("号码用途"),
}
# A public number: digits, with dashes or spaces between groups (0571-12345, 400 123 4567),
# at least as many as the shortest service line (12345, 95598); or the office's mailbox.
NUMBER = re.compile(r"^\+?[0-9][0-9\- ]*[0-9]$")
NUMBER_MIN_DIGITS = 5
MAILBOX = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
# The fewest characters (spaces not counted) an entry of a kind has: shorter, it would be
# found in nearly every text. A formulation is a fixed phrase (人民代表大会制度).
MIN_CHARS: dict[str, int] = {
    Kind.FORMULATION: 4,
    Kind.AVOID: 2,
    Kind.MISUSED: 2,
    Kind.LEADER: 2,
    Kind.PLACE: 2,
}
# Words of nearly every sentence, and the characters they are made of: an entry that is
# one of them (or, a leader's name aside, made of those characters only) would flag or
# pass every text.
FUNCTION_CHARS = frozenset(
    "的了是在和与及或也都就而着过吗呢吧啊之其这那我你他她它们个一不有把被对从向为以于"
)
FUNCTION_WORDS = frozenset(
    "我们 你们 他们 她们 它们 咱们 这个 那个 一个 这些 那些 这样 那样 这里 那里 什么 怎么 "
    "可以 没有 不是 就是 还是 也是 都是 因为 所以 但是 而且 并且 或者 以及 如果 虽然 已经 "
    "正在 进行 通过 对于 关于 根据 按照 自己 大家 有关 相关 其他 其中 一些 一定 能够 需要 "
    "工作 开展 情况 问题 方面 今年 目前".split()
)
# Marks of a pattern (.* [0-9] a|b ^…$): the lists match their words as written.
PATTERN = re.compile(r"[\\*?^$\[\]{}|]|\.[*+?]")


class Checkable(Protocol):
    """A finding, as the checker or the hook reports it."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def family(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def rule(self) -> str: ...


def key_of(finding: Checkable) -> str:
    """A finding's stable key: its family, rule and the text it found."""
    return f"{finding.family}:{finding.rule}:{finding.text[:FOUND_MAX]}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ the word lists


@dataclass(frozen=True)
class EntryInput:
    kind: str
    text: str
    extra: str = ""
    note: str = ""


def _may_manage(actor: Any, account: Account | None) -> None:
    """An account's lists: `proofread.manage` there; the installation's: the superuser."""
    if account is None:
        if not getattr(actor, "is_superuser", False):
            raise PermissionDenied(
                _("只有超级管理员可以修改全平台词表") + " / only the superuser edits the "
                "installation's word lists"
            )
        return
    permissions.require(actor, account, MANAGE)


def _clean(data: EntryInput) -> tuple[EntryInput, dict[str, list[str]]]:
    """The entry as it will be stored, and what is wrong with it, per field."""
    errors: dict[str, list[str]] = {}
    kind = data.kind
    text = " ".join(data.text.split())
    extra = " ".join(data.extra.split()) if kind in EXTRA_LABELS else ""
    note = " ".join(data.note.split())
    if kind not in Kind.values:
        errors["kind"] = [_("未知的词条类别：%(kind)s") % {"kind": kind}]
        return EntryInput(kind, text, extra, note), errors
    if kind == Kind.PUBLIC_NUMBER:
        # full-width digits and dashes (０５７１－１２３４５) as the checker reads them
        text = unicodedata.normalize("NFKC", text).replace(" ", "")
    if not text:
        errors["text"] = [_("词语不能为空")]
    elif len(text) > TEXT_MAX:
        errors["text"] = [_("词语最多 %(n)d 个字") % {"n": TEXT_MAX}]
    elif kind == Kind.PUBLIC_NUMBER:
        if not MAILBOX.match(text) and (
            not NUMBER.match(text) or sum(c.isdigit() for c in text) < NUMBER_MIN_DIGITS
        ):
            errors["text"] = [
                _("「%(text)s」不是电话号码或电子邮箱：号码只能有数字和连字符，至少 %(n)d 位")
                % {"text": text, "n": NUMBER_MIN_DIGITS}
            ]
    elif why := _too_wide(kind, text):
        errors["text"] = [why]
    if len(extra) > EXTRA_MAX:
        errors["extra"] = [_("最多 %(n)d 个字") % {"n": EXTRA_MAX}]
    elif kind == Kind.MISUSED and not extra:
        errors["extra"] = [_("请填写正确写法")]
    elif kind == Kind.MISUSED and key_of_text(extra) == key_of_text(text):
        errors["extra"] = [_("正确写法与易错写法相同")]
    elif kind == Kind.LEADER and not extra:
        errors["extra"] = [_("请填写领导的职务")]
    if len(note) > NOTE_MAX:
        errors["note"] = [_("说明最多 %(n)d 个字") % {"n": NOTE_MAX}]
    elif kind == Kind.AVOID and not note:
        errors["note"] = [_("禁用词须说明理由")]
    return EntryInput(kind, text, extra, note), errors


def _too_wide(kind: str, text: str) -> str | None:
    """Why an entry of `kind` would be found in nearly every text (None: it would not)."""
    if not any(c.isalnum() for c in text):
        return _("「%(text)s」没有汉字、字母或数字：只有符号的词条会在太多地方出现") % {
            "text": text
        }
    if m := PATTERN.search(text):
        return _("「%(text)s」含有「%(mark)s」：词表按原文逐字匹配，不支持通配符或正则表达式") % {
            "text": text,
            "mark": m.group(0),
        }
    least = MIN_CHARS[kind]
    if len(text.replace(" ", "")) < least:
        return _("%(kind)s至少 %(n)d 个字：更短的词会在太多地方出现") % {
            "kind": Kind(kind).label,
            "n": least,
        }
    if key_of_text(text) in FUNCTION_WORDS or (
        kind != Kind.LEADER and set(key_of_text(text)) <= FUNCTION_CHARS
    ):
        return _("「%(text)s」是常用虚词，几乎每段文字都有，不能作为%(kind)s") % {
            "text": text,
            "kind": Kind(kind).label,
        }
    return None


def key_of_text(text: str) -> str:
    """What makes two entries the same: their text without spaces, full-width and
    half-width forms alike (ＡＢＣ and ABC), letters in any case."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _current(account: Account | None) -> Any:
    rows = ProofEntry.objects.filter(retired_at__isnull=True)
    return rows.filter(account__isnull=True) if account is None else rows.filter(account=account)


Taken = dict[str, tuple[str, bool]]


def _taken(account: Account | None, kind: str) -> Taken:
    """The entries of `kind` in use, by `key_of_text`: the text written and whether it is
    the installation's (for an account: its own, then the installation's)."""
    found: Taken = {}
    for scope in [account, None] if account is not None else [None]:
        for text in _current(scope).filter(kind=kind).values_list("text", flat=True):
            found.setdefault(key_of_text(text), (text, scope is None and account is not None))
    return found


def _duplicate(account: Account | None, data: EntryInput, taken: Taken | None = None) -> str | None:
    """Why the entry is one the lists have already, written the same or with other
    spaces, widths or case (None: it is new)."""
    if taken is None:
        taken = _taken(account, data.kind)
    held = taken.get(key_of_text(data.text))
    if held is None:
        return None
    have, installation = held
    label = Kind(data.kind).label
    if installation:
        why = _("全平台词表已有%(kind)s「%(text)s」") % {"kind": label, "text": have}
    else:
        why = _("%(kind)s「%(text)s」已在词表中") % {"kind": label, "text": have}
    if have != data.text:
        why += _("（与「%(text)s」只差空格、全角半角或大小写）") % {"text": data.text}
    return why


def clean_entry(account: Account | None, data: EntryInput) -> EntryInput:
    """The entry as it will be stored; a ValidationError per field if it cannot be."""
    cleaned, errors = _clean(data)
    if not errors and (why := _duplicate(account, cleaned)):
        errors["text"] = [why]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _entry_data(entry: ProofEntry) -> dict[str, Any]:
    return {"entry": entry.pk, "kind": entry.kind, "text": entry.text, "extra": entry.extra,
            "note": entry.note, "installation": entry.account_id is None}  # fmt: skip


def add_entry(account: Account | None, data: EntryInput, *, actor: Any) -> ProofEntry:
    """An entry of the account's lists (account None: the installation's)."""
    _may_manage(actor, account)
    data = clean_entry(account, data)
    try:
        with transaction.atomic():
            entry = ProofEntry.objects.create(
                account=account, kind=data.kind, text=data.text, extra=data.extra,
                note=data.note, created_by=actor if _person(actor) else None,
            )  # fmt: skip
            record("proofread.entry_added", account=account, actor=actor, **_entry_data(entry))
            bump()
    except IntegrityError as exc:  # the same entry, added at the same moment
        raise ValidationError({"text": [_duplicate(account, data) or str(exc)]}) from exc
    return entry


def retire_entry(entry: ProofEntry, *, actor: Any) -> ProofEntry:
    """Stop using an entry; it is kept (retired), never deleted."""
    _may_manage(actor, entry.account)
    with transaction.atomic():
        done = ProofEntry.objects.filter(pk=entry.pk, retired_at__isnull=True).update(
            retired_at=timezone.now()
        )
        if not done:
            raise ValidationError(_("「%(text)s」已停用") % {"text": entry.text})
        entry.refresh_from_db(fields=["retired_at"])
        record("proofread.entry_retired", account=entry.account, actor=actor, **_entry_data(entry))
        bump()
    return entry


def parse_lines(kind: str, pasted: str) -> tuple[list[tuple[int, EntryInput]], list[str]]:
    """Pasted lines `词语|对应内容|说明` (the last two may be left out; a kind with no
    second column: `词语||说明`) → the entries with their line numbers, and what is wrong,
    each naming its line. Blank lines are skipped."""
    entries: list[tuple[int, EntryInput]] = []
    errors: list[str] = []
    lines = pasted.splitlines()
    if len(lines) > IMPORT_MAX_LINES:
        return [], [_("一次最多导入 %(n)d 行") % {"n": IMPORT_MAX_LINES}]
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        if len(parts) > 3:
            errors.append(
                _("第 %(n)d 行：多于三栏（%(form)s）") % {"n": n, "form": line_form(kind)}
            )
            continue
        parts += [""] * (3 - len(parts))
        if parts[1] and kind not in EXTRA_LABELS:
            errors.append(
                _("第 %(n)d 行：%(kind)s没有第二栏（%(form)s）")
                % {"n": n, "kind": Kind(kind).label, "form": line_form(kind)}
            )
            continue
        data = EntryInput(kind, *parts)
        cleaned, wrong = _clean(data)
        errors += [
            _("第 %(n)d 行：%(why)s") % {"n": n, "why": why}
            for field in ("kind", "text", "extra", "note")
            for why in wrong.get(field, [])
        ]
        if wrong:
            continue
        key = key_of_text(cleaned.text)
        if key in seen:
            errors.append(
                _("第 %(n)d 行：「%(text)s」与第 %(m)d 行重复")
                % {"n": n, "text": cleaned.text, "m": seen[key]}
            )
            continue
        seen[key] = n
        entries.append((n, cleaned))
    return entries, errors


def line_form(kind: str) -> str:
    """How a pasted line of `kind` is written."""
    if kind in EXTRA_LABELS:
        return _("词语|%(extra)s|说明") % {"extra": EXTRA_LABELS[kind]}
    return _("词语||说明")


def import_entries(
    account: Account | None, kind: str, pasted: str, *, actor: Any
) -> list[ProofEntry]:
    """Paste one entry a line; all or nothing: any bad line (each named in the error),
    and nothing is added."""
    _may_manage(actor, account)
    if kind not in Kind.values:
        raise ValidationError(_("未知的词条类别：%(kind)s") % {"kind": kind})
    parsed, errors = parse_lines(kind, pasted)
    taken = _taken(account, kind)
    for n, entry in parsed:
        if why := _duplicate(account, entry, taken):
            errors.append(_("第 %(n)d 行：%(why)s") % {"n": n, "why": why})
    if not errors and not parsed:
        errors.append(_("没有可导入的内容：每行一条，%(form)s") % {"form": line_form(kind)})
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            made = ProofEntry.objects.bulk_create(
                [
                    ProofEntry(account=account, kind=e.kind, text=e.text, extra=e.extra,
                               note=e.note, created_by=actor if _person(actor) else None)
                    for _n, e in parsed
                ]
            )  # fmt: skip
            record("proofread.entries_imported", account=account, actor=actor, kind=kind,
                   count=len(made), texts=[e.text for e in made][:200],
                   installation=account is None)  # fmt: skip
            bump()
    except IntegrityError as exc:  # an entry added meanwhile
        raise ValidationError(_("导入时词表已被修改，请重新导入")) from exc
    return made


def _person(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


# ------------------------------------------------------------------ dismissals


def dismiss_finding(
    account: Account, finding: Checkable, text: str, reason: str, *, actor: Any
) -> Dismissal:
    """A reviewer dismisses a finding in `text`, saying why: the same finding in the same
    text is not asked about again. A veto cannot be dismissed: the text must change."""
    permissions.require(actor, account, DISMISS)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": [_("请说明忽略的理由")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("理由最多 %(n)d 个字") % {"n": REASON_MAX}]})
    if finding.severity == VETO:
        raise ValidationError(
            _("否决项不能忽略，须修改文字：「%(text)s」") % {"text": finding.text}
        )
    if text[finding.start : finding.end] != finding.text:
        raise ValidationError(_("这条提示不属于这段文字（文字已修改？）"))
    key, digest = key_of(finding), sha256(text)
    same = Dismissal.objects.filter(account=account, rule=key, text_sha256=digest)
    if (found := same.first()) is not None:
        return found
    try:
        with transaction.atomic():
            dismissal = Dismissal.objects.create(
                account=account, rule=key, text_sha256=digest, found=finding.text[:FOUND_MAX],
                reason=reason, by=actor if _person(actor) else None,
            )  # fmt: skip
            record("proofread.dismissed", account=account, actor=actor, rule=key,
                   found=dismissal.found, severity=finding.severity, reason=reason,
                   text_sha256=digest)  # fmt: skip
    except IntegrityError:  # dismissed by someone else at the same moment
        return same.get()
    return dismissal


def dismissed_keys(account: Account | None, text: str) -> set[str]:
    """The keys of the findings dismissed in exactly this text."""
    if account is None:
        return set()
    return set(
        Dismissal.objects.filter(account=account, text_sha256=sha256(text)).values_list(
            "rule", flat=True
        )
    )


def is_dismissed(account: Account | None, finding: Checkable, text: str) -> bool:
    return key_of(finding) in dismissed_keys(account, text)


# ------------------------------------------------------------------ the report


def record_findings(
    account: Account,
    where: str,
    obj_id: Any,
    findings: Iterable[Checkable],
    published: bool = False,
    *,
    text: str | None = None,
) -> list[FindingRecord]:
    """Keep the findings of one object for the report: one row per (object, family,
    rule, text found), created the first time, updated after (its severity; published
    once the object reached publication with it; dismissed as the dismissals of `text`
    say, when it is given). Returns the object's rows for these findings."""
    if where not in Where.values:
        raise ValueError(f"unknown place {where!r}")
    object_id = str(obj_id)
    wanted: dict[tuple[str, str, str], Checkable] = {}
    for f in findings:
        wanted.setdefault((f.family, f.rule, f.text[:FOUND_MAX]), f)
    if not wanted:
        return []
    dismissed = dismissed_keys(account, text) if text is not None else None
    month = timezone.localdate().replace(day=1)
    with transaction.atomic():
        rows = FindingRecord.objects.select_for_update().filter(
            account=account, where=where, object_id=object_id
        )
        have = {(r.family, r.rule, r.found): r for r in rows}
        FindingRecord.objects.bulk_create(
            [
                FindingRecord(
                    account=account, where=where, object_id=object_id, family=family,
                    rule=rule, found=found, severity=f.severity, month=month,
                    published=published,
                    dismissed=dismissed is not None and key_of(f) in dismissed,
                )
                for (family, rule, found), f in wanted.items()
                if (family, rule, found) not in have
            ],
            ignore_conflicts=True,  # written meanwhile by another save: updated below
        )  # fmt: skip
        for k, f in wanted.items():
            row = have.get(k)
            if row is None:
                continue
            changes = {"severity": f.severity, "published": row.published or published}
            if dismissed is not None:
                changes["dismissed"] = key_of(f) in dismissed
            if any(getattr(row, name) != value for name, value in changes.items()):
                for name, value in changes.items():
                    setattr(row, name, value)
                row.save(update_fields=[*changes, "seen_at"])
    return [
        r
        for r in FindingRecord.objects.filter(account=account, where=where, object_id=object_id)
        if (r.family, r.rule, r.found) in wanted
    ]


# ------------------------------------------------------------------ the hook


def text_flags(account: Account | None, text: str, where: str) -> list[textcheck.Flag]:
    """Every finding in `text` for the account (its word lists, names and places), each
    with whether it was dismissed in this very text: the checker `govwx.lib.textcheck`
    calls (registered by the app's `ready()`)."""
    found = check(text, context_for(account))
    dismissed = dismissed_keys(account, text) if any(f.severity == ERROR for f in found) else set()
    if found and account is not None and where in Where.values and where != Where.ARTICLE:
        # kept for the report, in the caller's transaction: a save the findings refuse
        # leaves no row; the text is the object (a rule or guide is saved as a whole)
        record_findings(account, where, "text:" + sha256(text)[:40], found, text=text)
    return [
        textcheck.Flag(
            f.start, f.end, f.text, f.family, f.severity, f.message, f.suggestion, f.rule,
            key_of(f), key_of(f) in dismissed,
        )
        for f in found
    ]  # fmt: skip
