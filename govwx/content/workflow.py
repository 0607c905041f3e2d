"""The editorial workflow across departments: 提交 → 核实 (the source department's
liaison) → 校对 (a reviewer; the text checks) → 签发 (the office for routine information,
a leader for major) → scheduled for publishing. An emergency release (权威发布) runs the
same steps against a target in minutes and alerts the people on duty at each step.

Each action is one service: it checks the permission and the person (a liaison verifies
only their own department's information), takes the article under a row lock, refuses a
wrong state or a stale revision (the one the actor saw) before writing anything, writes
the step as a `Step` row (who, when, comment, outcome — nothing is deleted) and an audit
event. A returned article goes back to draft with its history; resubmitting opens new
steps.

The text checks run at 校对 and at every later step: `articles.check` (what WeChat would
refuse: a veto) and the proofreading checks registered in `CHECKS`. A veto, or an error
no reviewer has dismissed with a reason, blocks passing the step. A check may keep its
own dismissals (proofreading remembers them for the paragraph, in the editor as here:
`proofread.article`); the others' are kept on the step, for this round. What the
proofreader finds is recorded for its report (`proofread.article.record`) whenever a
step looks at the text: submitted, passed or refused, returned, an error dismissed.

What the pages read (待我处理, the history with step times, the release's clock) is in
workflow_queries.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from govwx.accounts import permissions
from govwx.accounts.models import Account, Membership
from govwx.accounts.services import record
from govwx.team.models import Alert, Layer, Rota
from govwx.team.services import on_duty, raise_alert, settle_alerts

from . import articles, publishing
from .articles import ArticleInput, Conflict
from .models import Article, Policy, Step
from .proofread import article as proofread_article

Status = Article.Status
Kind = Step.Kind
Outcome = Step.Outcome

# the statuses of an article in the workflow, and the step each one waits for
WAITING: dict[str, str] = {Status.VERIFYING: Kind.VERIFY, Status.PROOFREADING: Kind.PROOFREAD,
           Status.APPROVING: Kind.APPROVE}  # fmt: skip
# the steps an article still has to pass, this one included (an emergency release's
# remaining time is shared among them)
STEPS_LEFT: dict[str, int] = {Kind.VERIFY: 3, Kind.PROOFREAD: 2, Kind.APPROVE: 1}
# what the action is called in an error message
VERBS: dict[str, str] = {Kind.VERIFY: "核实 / verify", Kind.PROOFREAD: "校对 / proofread",
         Kind.APPROVE: "签发 / approve"}  # fmt: skip
REASON_MAX = 500
KEYWORD_MAX = 20
KEYWORDS_MAX = 200
EMERGENCY_MINUTES_MAX = 24 * 60
# An approval "for a time" a little in the past (the form took a minute): now.
SCHEDULE_SLACK = timedelta(minutes=2)


# ------------------------------------------------------------------ text checks

VETO, ERROR, WARNING = "veto", "error", "warning"
SEVERITIES = (VETO, ERROR, WARNING)


@dataclass(frozen=True)
class Finding:
    """Something a text check found: a veto (blocks; fix the text), an error (blocks
    unless a reviewer dismisses it with a reason) or a warning (shown only)."""

    severity: str
    message: str
    # a stable name for what was found (a dismissal names it); by default the message
    code: str = ""
    # Set by a check that keeps its own dismissals: who dismissed it, when and why
    # ("by", "by_name", "at", "reason"), and how to dismiss it — (actor, reason) → the
    # same, raising ValidationError or PermissionDenied when it may not be.
    dismissed: Mapping[str, Any] | None = field(default=None, compare=False)
    dismiss: Callable[[Any, str], Mapping[str, Any]] | None = field(
        default=None, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def key(self) -> str:
        return (self.code or self.message)[:200]


Check = Callable[[Article], list[Finding]]
# The proofreading checks run at 校对 and every later step, beside `articles.check`.
CHECKS: list[Check] = []


def register(check: Check) -> Check:
    """Add a proofreading check (usable as a decorator); registering twice adds it once."""
    if check not in CHECKS:
        CHECKS.append(check)
    return check


def input_of(article: Article) -> ArticleInput:
    """The article's current values, as `articles.check` reads them."""
    return ArticleInput(
        title=article.title, body=article.body, author=article.author, digest=article.digest,
        cover=article.cover, source_department=article.source_department,
        original=article.original, source_name=article.source_name,
        source_url=article.source_url, locality=article.locality, category=article.category,
    )  # fmt: skip


def findings(article: Article) -> list[Finding]:
    """Everything the checks find in the article's current text: what WeChat would
    refuse (vetoes), then each registered check's findings. A check that fails to run is
    an error (a reviewer may dismiss it, saying why), never a silent pass."""
    found = [
        Finding(VETO, message, "limits:" + message)
        for message in articles.check(input_of(article), article.account)
    ]
    for check in list(CHECKS):
        try:
            found.extend(check(article))
        except Exception as exc:  # a check that fails is reported, never passed
            name = getattr(check, "__name__", type(check).__name__)
            found.append(
                Finding(
                    ERROR,
                    f"校对检查 {name} 未能运行：{exc} / check {name} failed",
                    f"failed:{name}",
                )
            )
    return found


def _round(article: Article) -> QuerySet[Step]:
    """The steps since the article was last submitted."""
    last = (
        Step.objects.filter(article=article, kind=Kind.SUBMIT)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )
    return Step.objects.filter(article=article, pk__gte=last or 0)


@dataclass(frozen=True)
class Review:
    """The checks' findings on the current text, and the errors dismissed since the
    article was submitted (key → who, when, why)."""

    findings: list[Finding]
    dismissed: dict[str, dict[str, Any]]

    @property
    def blocking(self) -> list[Finding]:
        return [
            f
            for f in self.findings
            if f.severity == VETO or (f.severity == ERROR and f.key not in self.dismissed)
        ]


def review(article: Article) -> Review:
    """The findings, and the dismissals that hold for them: a check's own (remembered
    for the text), else those made on the steps since the article was submitted."""
    found = findings(article)
    own = {f.key for f in found if f.dismiss is not None}
    dismissed: dict[str, dict[str, Any]] = {}
    for data in _round(article).values_list("data", flat=True):
        for d in (data or {}).get("dismissed", []):
            if d["key"] not in own:
                dismissed[d["key"]] = d
    for f in found:
        if f.dismiss is not None and f.dismissed is not None:
            dismissed[f.key] = {"key": f.key, "message": f.message, **f.dismissed}
    return Review(found, dismissed)


class Blocked(ValidationError):
    """A step refused: a veto or an undismissed error in the text."""


def _require_clean(article: Article) -> None:
    blocking = review(article).blocking
    if blocking:
        lines = [f"{'否决' if f.severity == VETO else '错误'}：{f.message}" for f in blocking]
        raise Blocked(
            [*lines, "请修改正文，或由校对人员说明理由后忽略错误项 / fix the text, or a "
             "reviewer dismisses an error with a reason"]
        )  # fmt: skip


def _record(article: Article) -> None:
    """Keep what the proofreader finds in the article's text for its report."""
    proofread_article.record(article)


# ------------------------------------------------------------------ policy


def policy_for(account: Account) -> Policy:
    """The account's publishing policy (the defaults until an admin saves one)."""
    return Policy.objects.filter(account=account).first() or Policy(account=account)


def major_reason(article: Article, policy: Policy) -> str:
    """Why the article is major (approved by a leader), or "": its category is one of
    the policy's major categories, or a major keyword is in its title or text."""
    if article.category in (policy.major_categories or []):
        return f"类别：{Article.Category(article.category).label}"
    text = f"{article.title}\n{article.digest}\n{strip_tags(article.html)}".lower()
    for word in policy.major_keywords or []:
        if word and str(word).lower() in text:
            return f"关键词：{word}"
    return ""


@dataclass(frozen=True)
class PolicyInput:
    major_categories: list[str]
    major_keywords: list[str]
    verify_required: bool
    emergency_minutes: int | None


def split_keywords(text: str) -> list[str]:
    """Keywords as an admin types them: one a line, or separated by commas or 、."""
    for sep in (",", "，", "、", ";", "；"):
        text = text.replace(sep, "\n")
    return [w.strip() for w in text.splitlines() if w.strip()]


def update_policy(account: Account, values: PolicyInput, *, actor: Any) -> Policy:
    """Save who approves what (content.policy). Everything is checked first; nothing is
    saved when something is wrong."""
    permissions.require(actor, account, "content.policy")
    errors: dict[str, list[str]] = {}
    unknown = [c for c in values.major_categories if c not in Article.Category.values]
    if unknown:
        errors["major_categories"] = [f"未知的类别：{'、'.join(unknown)} / unknown category"]
    keywords = list(dict.fromkeys(w.strip() for w in values.major_keywords if w.strip()))
    long = [w for w in keywords if len(w) > KEYWORD_MAX]
    if long:
        errors["major_keywords"] = [
            f"关键词最多 {KEYWORD_MAX} 字：{long[0][:30]} / a keyword is {KEYWORD_MAX} characters at most"
        ]
    elif len(keywords) > KEYWORDS_MAX:
        errors["major_keywords"] = [
            f"关键词最多 {KEYWORDS_MAX} 个 / {KEYWORDS_MAX} keywords at most"
        ]
    minutes = values.emergency_minutes
    if minutes is None or not 1 <= minutes <= EMERGENCY_MINUTES_MAX:
        errors["emergency_minutes"] = [
            f"权威发布目标用时应为 1–{EMERGENCY_MINUTES_MAX} 分钟 / "
            f"the target is 1 to {EMERGENCY_MINUTES_MAX} minutes"
        ]
    if errors:
        raise ValidationError(errors)
    assert minutes is not None
    with transaction.atomic():
        policy, _created = Policy.objects.select_for_update().get_or_create(account=account)
        policy.major_categories = [
            c for c in Article.Category.values if c in values.major_categories
        ]
        policy.major_keywords = keywords
        policy.verify_required = values.verify_required
        policy.emergency_minutes = minutes
        policy.save()
        record("content.policy_updated", account=account, actor=actor,
               major_categories=policy.major_categories, major_keywords=keywords,
               verify_required=policy.verify_required, emergency_minutes=minutes)  # fmt: skip
    return policy


# ------------------------------------------------------------------ who acts


def membership_of(actor: Any, account: Account) -> Membership | None:
    if not getattr(actor, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=actor, account=account).first()


def _liaisons(account: Account, department_id: int | None) -> list[Any]:
    if department_id is None:
        return []
    return [
        m.user
        for m in Membership.objects.filter(
            account=account, role=Membership.Role.LIAISON, department_id=department_id,
            user__is_active=True,
        ).select_related("user").order_by("user_id")
    ]  # fmt: skip


def _approve_perm(article: Article) -> str:
    return "content.major" if article.major else "content.approve"


def owners(article: Article, step: Step) -> list[Any]:
    """The people who may act on an open step: the source department's liaisons (核实),
    the proofreaders (校对), the approvers of routine or of major information (签发)."""
    if step.kind == Kind.VERIFY:
        return _liaisons(article.account, step.department_id)
    perm = "content.proofread" if step.kind == Kind.PROOFREAD else _approve_perm(article)
    return [
        m.user
        for m in Membership.objects.filter(
            account=article.account, role__in=permissions.roles_with(perm), user__is_active=True
        ).select_related("user").order_by("user_id")
    ]  # fmt: skip


def may_act(actor: Any, article: Article, step: Step) -> bool:
    try:
        _require_actor(actor, article, step)
    except PermissionDenied:
        return False
    return True


def _require_actor(actor: Any, article: Article, step: Step) -> None:
    """Refuse anyone but the people of the step: the liaison of the step's department
    (核实), a proofreader (校对), an approver — a leader for major information (签发)."""
    account = article.account
    if step.kind == Kind.VERIFY:
        permissions.require(actor, account, "content.verify")
        m = membership_of(actor, account)
        if m is None or m.department_id != step.department_id:
            name = step.department.name if step.department else "—"
            raise PermissionDenied(
                f"只有来源部门（{name}）的联络员可以核实 / only the liaison of {name} verifies"
            )
    elif step.kind == Kind.PROOFREAD:
        permissions.require(actor, account, "content.proofread")
    elif step.kind == Kind.APPROVE:
        if article.major and not permissions.can(actor, account, "content.major"):
            raise PermissionDenied(
                "重大信息（政策解读等）须由领导签发 / a major article is approved by a leader"
            )
        permissions.require(actor, account, _approve_perm(article))


# ------------------------------------------------------------------ emergency release


def deadline(article: Article) -> datetime | None:
    """When an emergency release must be approved: its start plus its target."""
    if not article.emergency or article.submitted_at is None or not article.target_minutes:
        return None
    return article.submitted_at + timedelta(minutes=article.target_minutes)


def _due(article: Article, kind: str, now: datetime) -> datetime | None:
    """A step's share of the time left: the remaining steps share it equally, the last
    one is due at the deadline; past the deadline, at the deadline."""
    end = deadline(article)
    if end is None:
        return None
    if now >= end:
        return end
    return now + (end - now) / STEPS_LEFT.get(kind, 1)


def on_duty_now(account: Account, at: datetime) -> list[Any]:
    """The operators and the leaders on duty now on the account's rotas."""
    people: list[Any] = []
    for rota in Rota.objects.filter(accounts=account).order_by("pk"):
        people += on_duty(rota, at) + on_duty(rota, at, Layer.LEADER)
    return people


def _subject(step: Step) -> str:
    return f"release:{step.article_id}:{step.pk}"


def _alert(article: Article, step: Step, now: datetime) -> Alert | None:
    """Tell the people on duty and the people of the step that an emergency release
    waits for it, and by when (the alert goes through the account's channels and up the
    duty chain while nobody acknowledges it)."""
    people = list(
        {p.pk: p for p in on_duty_now(article.account, now) + owners(article, step)}.values()
    )
    due = timezone.localtime(step.due_at) if step.due_at else None
    where = f"（{step.department.name}）" if step.kind == Kind.VERIFY and step.department else ""
    text = f"权威发布「{article.title}」待{step.get_kind_display()}{where}"
    if due is not None:
        text += f"，请于 {due:%H:%M} 前完成（目标 {article.target_minutes} 分钟）"
    end = deadline(article)
    detail = f"发布时限：{timezone.localtime(end):%Y-%m-%d %H:%M}" if end else ""
    return raise_alert(
        article.account,
        Alert.Kind.RELEASE,
        _subject(step),
        text,
        link=reverse("content:workflow", kwargs={"pk": article.pk}),
        at=now,
        detail=detail,
        to=people,
    )


def _settle(article: Article, step: Step, actor: Any) -> None:
    if not article.emergency:
        return
    alerts = Alert.objects.filter(
        account=article.account, kind=Alert.Kind.RELEASE, subject=_subject(step)
    ).select_related("account")
    settle_alerts(list(alerts), actor=actor, why=f"article:{article.pk}")


# ------------------------------------------------------------------ the steps


def _label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def _load(article: Article, revision: int | None, *statuses: str, verb: str) -> Article:
    """The article under a row lock, in one of `statuses` and at the revision the actor
    saw (None: any)."""
    current = (
        Article.objects.select_for_update(of=("self",)).select_related("account").get(pk=article.pk)
    )
    if current.status not in statuses:
        raise ValidationError(
            f"「{current.title}」当前为「{_label(current.status)}」，不能{verb} / "
            f"the article is {current.status}"
        )
    if revision is not None and current.revision != revision:
        raise Conflict(
            f"文章已被修改（第 {current.revision} 版），请刷新后再操作 / changed meanwhile"
        )
    return current


def _open_step(article: Article) -> Step:
    step = (
        Step.objects.select_for_update(of=("self",))
        .select_related("department")
        .filter(article=article, outcome=Outcome.OPEN)
        .order_by("-id")
        .first()
    )
    if step is None or WAITING.get(article.status) != step.kind:  # pragma: no cover
        raise ValidationError("流程数据不一致：没有待办步骤 / no open step")
    return step


def _finish(
    step: Step, outcome: str, actor: Any, revision: int, comment: str, now: datetime
) -> None:
    step.outcome = outcome
    step.actor = actor
    step.revision = revision
    step.comment = comment
    step.finished_at = now
    step.save(update_fields=["outcome", "actor", "revision", "comment", "finished_at"])


def _open(article: Article, kind: str, now: datetime, **fields: Any) -> Step:
    step = Step.objects.create(
        article=article, kind=kind, started_at=now, due_at=_due(article, kind, now), **fields
    )
    if article.emergency:
        _alert(article, step, now)
    return step


def _set(article: Article, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(article, name, value)
    article.save(update_fields=[*fields, "updated_at"])


def _reason(text: str, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationError("请填写退回理由 / a return needs a reason")
    if len(text) > REASON_MAX:
        raise ValidationError(f"意见最多 {REASON_MAX} 字 / {REASON_MAX} characters at most")
    return text


def submit(article: Article, *, revision: int, actor: Any, comment: str = "") -> Article:
    """The writer sends a draft into the workflow (content.edit; a liaison, their own
    department's information). Whether it is major is decided here from the account's
    policy; the next step is 核实 by the source department's liaison when the article
    has a source department and the policy requires it, else 校对."""
    return _submit(article, revision=revision, actor=actor, comment=comment, emergency=False)


def start_emergency(article: Article, *, revision: int, actor: Any, comment: str = "") -> Article:
    """权威发布: submit a draft as an emergency release, with the policy's target in
    minutes from now; each step is due within it and alerts the people on duty."""
    return _submit(article, revision=revision, actor=actor, comment=comment, emergency=True)


def _submit(
    article: Article, *, revision: int, actor: Any, comment: str, emergency: bool
) -> Article:
    articles._require_edit(actor, article)
    comment = _reason(comment, required=False)
    now = timezone.now()
    with transaction.atomic():
        a = _load(article, revision, Status.DRAFT, verb="提交 / submit")
        problems = articles.check(input_of(a), a.account)
        if problems:
            raise ValidationError(problems)
        policy = policy_for(a.account)
        why = major_reason(a, policy)
        verify = bool(a.source_department_id and policy.verify_required)
        if verify and not _liaisons(a.account, a.source_department_id):
            assert a.source_department is not None
            raise ValidationError(
                f"来源部门「{a.source_department.name}」在本公众号没有部门联络员，无法核实；"
                "请先添加联络员，或由管理员在发布规则中取消核实 / the source department has no "
                "liaison to verify it"
            )
        fields: dict[str, Any] = {"major": bool(why)}
        if emergency:
            fields |= {"emergency": True, "target_minutes": policy.emergency_minutes,
                       "submitted_at": now}  # fmt: skip
        elif not (a.emergency and a.submitted_at):
            # an emergency release's clock runs from its start, through any return
            fields["submitted_at"] = now
        if a.locked_by_id == getattr(actor, "pk", None):
            fields |= {"locked_by": None, "locked_at": None}
        nxt = Status.VERIFYING if verify else Status.PROOFREADING
        _set(a, status=nxt, **fields)
        Step.objects.create(
            article=a, kind=Kind.SUBMIT, outcome=Outcome.DONE, actor=actor, revision=a.revision,
            comment=comment, started_at=now, finished_at=now,
            data={"major": why} if why else {},
        )  # fmt: skip
        if verify:
            _open(a, Kind.VERIFY, now, department_id=a.source_department_id,
                  role=Membership.Role.LIAISON)  # fmt: skip
        else:
            _open(a, Kind.PROOFREAD, now, role=Membership.Role.REVIEWER)
        if emergency:
            record("article.emergency_started", account=a.account, actor=actor, article=a.pk,
                   target_minutes=a.target_minutes)  # fmt: skip
        _record(a)
        record("article.submitted", account=a.account, actor=actor, article=a.pk,
               revision=a.revision, major=why, emergency=a.emergency, next=nxt)  # fmt: skip
    return a


def _pass(
    article: Article, kind: str, *, revision: int, actor: Any, comment: str
) -> tuple[Article, Step]:
    """Lock the article waiting for `kind`, check the person and (from 校对 on) the text,
    and close the open step as done."""
    status = next(s for s, k in WAITING.items() if k == kind)
    comment = _reason(comment, required=False)
    now = timezone.now()
    a = _load(article, revision, status, verb=VERBS[kind])
    step = _open_step(a)
    _require_actor(actor, a, step)
    if kind != Kind.VERIFY:
        _require_clean(a)
        _record(a)
    _finish(step, Outcome.DONE, actor, a.revision, comment, now)
    _settle(a, step, actor)
    return a, step


@contextmanager
def _recorded_if_blocked(article: Article) -> Iterator[None]:
    """A step refused for its text still records what was found (after the step's own
    transaction is rolled back)."""
    try:
        yield
    except Blocked:
        fresh = Article.objects.select_related("account").filter(pk=article.pk).first()
        if fresh is not None:
            _record(fresh)
        raise


def verify(article: Article, *, revision: int, actor: Any, comment: str = "") -> Article:
    """核实: the source department's liaison confirms the facts; on to 校对."""
    permissions.require(actor, article.account, "content.verify")
    with transaction.atomic():
        a, step = _pass(article, Kind.VERIFY, revision=revision, actor=actor, comment=comment)
        now = step.finished_at or timezone.now()
        _set(a, status=Status.PROOFREADING)
        _open(a, Kind.PROOFREAD, now, role=Membership.Role.REVIEWER)
        record("article.verified", account=a.account, actor=actor, article=a.pk,
               revision=a.revision, step=step.pk)  # fmt: skip
    return a


def proofread(article: Article, *, revision: int, actor: Any, comment: str = "") -> Article:
    """校对: a reviewer passes the text (no veto, no undismissed error); on to 签发, by
    a leader when the article is major — decided at submission, and made major here if
    the text now names a major keyword."""
    permissions.require(actor, article.account, "content.proofread")
    with _recorded_if_blocked(article), transaction.atomic():
        a, step = _pass(article, Kind.PROOFREAD, revision=revision, actor=actor, comment=comment)
        now = step.finished_at or timezone.now()
        why = major_reason(a, policy_for(a.account))
        _set(a, status=Status.APPROVING, major=a.major or bool(why))
        role = Membership.Role.SUPERVISOR if a.major else Membership.Role.ADMIN
        _open(a, Kind.APPROVE, now, role=role)
        record("article.proofread", account=a.account, actor=actor, article=a.pk,
               revision=a.revision, step=step.pk, major=a.major)  # fmt: skip
    return a


def approve(
    article: Article,
    *,
    revision: int,
    actor: Any,
    comment: str = "",
    at: datetime | None = None,
) -> Article:
    """签发: routine information by the office (content.approve), major only by a
    leader (content.major). Now (published at once) or for a time: the article is
    SCHEDULED and the task worker publishes it when it is due."""
    account = article.account
    if not (
        permissions.can(actor, account, "content.approve")
        or permissions.can(actor, account, "content.major")
    ):
        raise permissions.denied("content.approve")
    now = timezone.now()
    if at is not None and timezone.is_naive(at):
        raise ValidationError("定时发布时间须带时区 / an aware time")
    if at is not None and at < now - SCHEDULE_SLACK:
        raise ValidationError(
            f"定时发布时间 {timezone.localtime(at):%Y-%m-%d %H:%M} 已过 / that time has passed"
        )
    when = max(at, now) if at is not None else now
    with _recorded_if_blocked(article), transaction.atomic():
        a, step = _pass(article, Kind.APPROVE, revision=revision, actor=actor, comment=comment)
        step.data = {**step.data, "scheduled_for": when.isoformat()}
        step.save(update_fields=["data"])
        _set(a, status=Status.SCHEDULED, scheduled_for=when)
        publishing.schedule(a)
        record("article.approved", account=a.account, actor=actor, article=a.pk,
               revision=a.revision, step=step.pk, major=a.major,
               scheduled_for=when.isoformat())  # fmt: skip
    return a


def return_article(article: Article, reason: str, *, revision: int, actor: Any) -> Article:
    """退回: the person of the open step (核实, 校对 or 签发) sends the article back to
    draft, with a reason the writer sees. Its steps stay; resubmitting opens new ones."""
    reason = _reason(reason, required=True)
    permissions.require(actor, article.account, "content.view")
    now = timezone.now()
    with transaction.atomic():
        a = _load(article, revision, *WAITING, verb="退回 / return")
        step = _open_step(a)
        _require_actor(actor, a, step)
        _finish(step, Outcome.RETURNED, actor, a.revision, reason, now)
        _settle(a, step, actor)
        if step.kind != Kind.VERIFY:
            _record(a)
        _set(a, status=Status.DRAFT)
        record("article.returned", account=a.account, actor=actor, article=a.pk,
               revision=a.revision, step=step.pk, kind=step.kind, reason=reason)  # fmt: skip
    return a


def dismiss(article: Article, key: str, reason: str, *, revision: int, actor: Any) -> Article:
    """A reviewer dismisses an error finding, saying why (kept on the open step and
    audited): it no longer blocks — until the article is submitted again, or, for a
    check that keeps its own dismissals (proofreading), while the text it was dismissed
    in stays the same. A veto cannot be dismissed: the text must change."""
    permissions.require(actor, article.account, "content.proofread")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请说明忽略的理由 / give a reason to dismiss it")
    if len(reason) > REASON_MAX:
        raise ValidationError(f"理由最多 {REASON_MAX} 字 / {REASON_MAX} characters at most")
    with transaction.atomic():
        a = _load(article, revision, Status.PROOFREADING, Status.APPROVING,
                  verb="忽略检查项 / dismiss")  # fmt: skip
        step = _open_step(a)
        found = {f.key: f for f in findings(a)}
        finding = found.get(key)
        if finding is None:
            raise ValidationError("该检查项已不存在（正文已修改？）/ no such finding now")
        if finding.severity == VETO:
            raise ValidationError(
                f"否决项不能忽略，须修改正文：{finding.message} / a veto cannot be dismissed"
            )
        if finding.dismiss is not None:  # the check's own, remembered for the text
            finding.dismiss(actor, reason)
        step.data = {
            **step.data,
            "dismissed": [
                *step.data.get("dismissed", []),
                {"key": key, "message": finding.message, "severity": finding.severity,
                 "reason": reason, "by": actor.pk, "by_name": actor.get_username(),
                 "at": timezone.now().isoformat(), "revision": a.revision},
            ],
        }  # fmt: skip
        step.save(update_fields=["data"])
        _record(a)
        record("article.finding_dismissed", account=a.account, actor=actor, article=a.pk,
               step=step.pk, finding=finding.message, reason=reason)  # fmt: skip
    return a


def is_writer(actor: Any, article: Article) -> bool:
    if getattr(actor, "pk", None) is None:
        return False
    if article.created_by_id == actor.pk:
        return True
    return Step.objects.filter(article=article, kind=Kind.SUBMIT, actor=actor).exists()


def withdraw(article: Article, *, revision: int, actor: Any, reason: str = "") -> Article:
    """The writer takes a submission back before it is approved: the open step is
    cancelled, the article is a draft again."""
    permissions.require(actor, article.account, "content.edit")
    if not is_writer(actor, article):
        raise PermissionDenied("只有撰稿人可以撤回提交 / only its writer withdraws it")
    reason = _reason(reason, required=False)
    now = timezone.now()
    with transaction.atomic():
        a = _load(article, revision, *WAITING, verb="撤回 / withdraw")
        step = _open_step(a)
        _finish(step, Outcome.CANCELLED, actor, a.revision, reason or "撰稿人撤回", now)
        _settle(a, step, actor)
        _set(a, status=Status.DRAFT)
        record("article.submission_withdrawn", account=a.account, actor=actor, article=a.pk,
               step=step.pk, reason=reason)  # fmt: skip
    return a


def cancel_schedule(article: Article, *, revision: int, actor: Any, reason: str = "") -> Article:
    """Stop a scheduled publish before the worker takes it (content.publish): the
    article waits for 签发 again (a new step)."""
    permissions.require(actor, article.account, "content.publish")
    reason = _reason(reason, required=False)
    now = timezone.now()
    with transaction.atomic():
        a = _load(article, revision, Status.SCHEDULED, verb="取消定时发布 / cancel")
        # the worker claims SCHEDULED → PUBLISHING with a conditional update: so do we
        if not Article.objects.filter(pk=a.pk, status=Status.SCHEDULED).update(
            status=Status.APPROVING, scheduled_for=None, updated_at=now
        ):  # pragma: no cover - the row lock above keeps the worker out on PostgreSQL
            raise ValidationError("已开始发布，不能取消 / publishing has started")
        a.status, a.scheduled_for = Status.APPROVING, None
        Step.objects.create(
            article=a, kind=Kind.PUBLISH, outcome=Outcome.CANCELLED, actor=actor,
            revision=a.revision, comment=reason or "取消定时发布", started_at=now,
            finished_at=now,
        )  # fmt: skip
        role = Membership.Role.SUPERVISOR if a.major else Membership.Role.ADMIN
        _open(a, Kind.APPROVE, now, role=role)
        record("article.schedule_cancelled", account=a.account, actor=actor, article=a.pk,
               reason=reason)  # fmt: skip
    return a
