"""Routing: what a citizen's message says about its case — its type, the department it
belongs to and the rule that chose them — and what a follow-up message changes on a case
that no department holds yet. Pure: the rules, the handoff words and the account's
routing mode are read by the caller (once per intake batch; once per try on the
settings page), so intake and the test box run the very same code."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .models import CaseType, DeskSettings, RoutingRule, Status

# Words that tell the type when no routing rule does
TYPE_WORDS = (
    (CaseType.REPORT, ("举报",)),
    (CaseType.COMPLAINT, ("投诉", "不满", "反映")),
    (CaseType.HELP, ("求助", "紧急", "救命", "帮帮")),
    (CaseType.SUGGESTION, ("建议",)),
    (CaseType.PRAISE, ("表扬", "感谢", "点赞")),
)
# Asking for a person is not a matter to name a case by; the account's 转人工 rules add
# their own keywords to these (handoff_words).
HANDOFF_WORDS = frozenset({"人工", "转人工", "人工客服", "人工服务", "客服", "找人工"})
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
Mode = DeskSettings.RoutingMode


def normalise(text: str) -> str:
    """A message as compared with handoff words: without spaces, punctuation or case."""
    return _NOISE.sub("", text).lower()


def handoff_words(account_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Each account's handoff words: the defaults and the plain keywords of its enabled
    转人工 rules (one query)."""
    from govwx.replies.models import Keyword

    ids = set(account_ids)
    found: dict[int, set[str]] = {a: set(HANDOFF_WORDS) for a in ids}
    for account_id, text in (
        Keyword.objects.filter(rule__account_id__in=ids, rule__handoff=True, rule__enabled=True)
        .exclude(match=Keyword.Match.REGEX)
        .values_list("rule__account_id", "text")
    ):
        if normalise(text):
            found[account_id].add(normalise(text))
    return {a: frozenset(words) for a, words in found.items()}


def routing_modes(account_ids: Iterable[int]) -> dict[int, str]:
    """Each account's routing mode (automatic unless it chose to be suggested to)."""
    ids = set(account_ids)
    modes = dict(
        DeskSettings.objects.filter(account_id__in=ids).values_list("account_id", "routing_mode")
    )
    return {a: modes.get(a, Mode.AUTO) for a in ids}


def rules_of(account_id: int) -> list[RoutingRule]:
    """An account's routing rules in the order they are tried."""
    return list(
        RoutingRule.objects.filter(account_id=account_id)
        .select_related("department")
        .order_by("priority", "id")
    )


@dataclass(frozen=True)
class Routed:
    """What routing made of one message."""

    case_type: str
    rule: RoutingRule | None = None
    # the word that told the type when the rule did not (None: the default type)
    type_word: str | None = None
    # the message only asks for a person (or is a click, a picture): it names nothing
    bare: bool = False

    @property
    def department(self) -> Any:
        return self.rule.department if self.rule is not None else None

    @property
    def department_id(self) -> int | None:
        return self.rule.department_id if self.rule is not None else None


def type_from_words(text: str) -> tuple[str, str | None]:
    for kind, words in TYPE_WORDS:
        for w in words:
            if w in text:
                return kind, w
    return CaseType.CONSULTATION, None


def route(
    rules: Sequence[RoutingRule],
    text: str,
    *,
    msg_type: str = "text",
    handoff: frozenset[str] = HANDOFF_WORDS,
) -> Routed:
    """The first rule (in order) whose keyword the message contains, with its type (or
    the type its words tell); a message that only asks for a person, a menu click or a
    picture is `bare`: it names no case and no rule applies."""
    if msg_type != "text" or not normalise(text) or normalise(text) in handoff:
        return Routed(CaseType.CONSULTATION, bare=True)
    for rule in rules:
        if rule.keyword and rule.keyword in text:
            if rule.case_type:
                return Routed(rule.case_type, rule)
            kind, word = type_from_words(text)
            return Routed(kind, rule, word)
    kind, word = type_from_words(text)
    return Routed(kind, None, word)


@dataclass
class CaseState:
    """The fields of a case that routing may change, as intake sees them."""

    subject: str
    untitled: bool
    case_type: str
    type_confirmed: bool
    department_id: int | None
    suggested_id: int | None
    status: str
    # what changed, in order: (event name, data, when) for the case's history
    events: list[tuple[str, dict[str, Any], Any]] = field(default_factory=list)

    @classmethod
    def opened(cls, text: str, routed: Routed, mode: str, when: Any = None) -> CaseState:
        """The case a follower's first message opens."""
        state = cls(
            subject=(text.strip() or "（无文字）")[:120],
            untitled=routed.bare,
            case_type=routed.case_type,
            type_confirmed=False,
            department_id=None,
            suggested_id=routed.department_id,
            status=Status.NEW,
        )
        if routed.department_id is not None and mode == Mode.AUTO:
            state._assign(routed, when)
        return state

    def _assign(self, routed: Routed, when: Any) -> None:
        assert routed.rule is not None
        self.department_id = routed.department_id
        self.status = Status.ASSIGNED
        self.events.append(
            (
                "case.assigned",
                {
                    "department": routed.department_id,
                    "case_type": self.case_type,
                    "rule": routed.rule.pk,
                    "keyword": routed.rule.keyword,
                    "auto": True,
                },
                when,
            )
        )

    def follow(self, text: str, routed: Routed, mode: str, when: Any = None) -> bool:
        """A further message of the citizen joins the case: it names an untitled case
        and, while no department holds the case, routing runs again. Returns whether
        anything changed."""
        if routed.bare:
            return False
        before = len(self.events)
        retype = not self.type_confirmed
        if self.untitled:
            self.subject = (text.strip() or self.subject)[:120]
            self.untitled = False
            if retype:
                self.case_type = routed.case_type
            self.events.append(
                ("case.named", {"subject": self.subject, "case_type": self.case_type}, when)
            )
        unassigned = self.department_id is None and self.status in (Status.NEW, Status.REOPENED)
        if not unassigned:
            return len(self.events) > before
        if retype and routed.case_type != self.case_type:
            # a rule's type, or words that say more than the default 咨询
            if (routed.rule is not None and routed.rule.case_type) or (
                self.case_type == CaseType.CONSULTATION and routed.type_word is not None
            ):
                self.events.append(
                    (
                        "case.retyped",
                        {"from": self.case_type, "case_type": routed.case_type},
                        when,
                    )
                )
                self.case_type = routed.case_type
        dept = routed.department_id
        # a department already suggested (or that had the case and returned it) is not
        # chosen again by the same words
        if dept is not None and dept != self.suggested_id:
            self.suggested_id = dept
            if mode == Mode.AUTO:
                self._assign(routed, when)
            else:
                self.events.append(
                    (
                        "case.routed",
                        {
                            "department": dept,
                            "rule": routed.rule.pk if routed.rule else None,
                            "keyword": routed.rule.keyword if routed.rule else "",
                        },
                        when,
                    )
                )
        return len(self.events) > before
