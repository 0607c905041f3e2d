"""Console pages for auto-reply: keyword rules, the follow / default / menu-click
replies, and the "try it" box. Thin: parse a form, call one service, render."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view
from govwx.lib import textcheck

from .forms import RuleForm, TriggerRepliesForm, TryForm
from .models import Keyword, Reply, Rule
from .services import (
    ReplyInput,
    TriggerChange,
    create_rule,
    delete_rule,
    load_ruleset,
    save_trigger_replies,
    update_rule,
)

PAGE_SIZE = 50
EXTRA_CLICK_ROWS = 3


def _rule_for(account: Account, pk: int) -> Rule:
    """A rule of the current account, or 404 (another account's rules do not exist)."""
    return get_object_or_404(Rule.objects.select_related("account"), pk=pk, account=account)


def wire_summary(kind: str, data: dict[str, Any]) -> str:
    if kind == Reply.Kind.TEXT:
        return str(data.get("content", ""))
    if kind == Reply.Kind.NEWS:
        arts = data.get("articles") or []
        return _("[图文] %(title)s") % {"title": arts[0].get("title", "") if arts else ""}
    if kind in Reply.Kind.values:
        return "[" + str(Reply.Kind(kind).label) + "]"
    return f"[{kind}]"


@console_view("rules.view")
def rule_list(request: HttpRequest, account: Account) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    rules = Rule.objects.filter(account=account)
    if q:
        matching = Keyword.objects.filter(rule__account=account, text__icontains=q).values(
            "rule_id"
        )
        rules = rules.filter(Q(name__icontains=q) | Q(pk__in=matching))
    rules = rules.order_by("priority", "id").prefetch_related(
        "keywords",
        Prefetch("replies", queryset=Reply.objects.order_by("position", "id")),
    )
    page = Paginator(rules, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for rule in page.object_list:
        replies = list(rule.replies.all())
        first = wire_summary(replies[0].kind, replies[0].payload) if replies else ""
        rows.append(
            {
                "rule": rule,
                "keywords": list(rule.keywords.all()),
                "first_reply": first,
                "reply_count": len(replies),
            }
        )
    return render(
        request,
        "replies/rule_list.html",
        {
            "account": account,
            "page": page,
            "rows": rows,
            "q": q,
            "try_form": TryForm(),
            "query": urlencode({"q": q}) if q else "",
        },
    )


def _refused(form: RuleForm, exc: ValidationError) -> textcheck.TextRefused | None:
    """The checker's refusal, shown on its own panel; any other error on the form."""
    if isinstance(exc, textcheck.TextRefused):
        return exc
    form.add_service_errors(exc)
    return None


@console_view("rules.edit")
def rule_create(request: HttpRequest, account: Account) -> HttpResponse:
    form = RuleForm(request.POST or None)
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.to_input()
        warnings: list[textcheck.Found] = []
        try:
            rule = create_rule(
                account,
                data,
                actor=request.user,
                dismissing=textcheck.posted_dismiss(request.POST),
                warnings=warnings,
            )
        except ValidationError as exc:
            refused = _refused(form, exc)
        else:
            messages.success(request, _("已创建规则“%(name)s”") % {"name": rule.name})
            textcheck.warn(request, warnings)
            return redirect("replies:list")
    return render(
        request,
        "replies/rule_form.html",
        {"account": account, "form": form, "rule": None, "refused": refused},
    )


@console_view("rules.edit")
def rule_edit(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    rule = _rule_for(account, pk)
    refused = None
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid():
            data = form.to_input()
            warnings: list[textcheck.Found] = []
            try:
                update_rule(
                    rule,
                    data,
                    actor=request.user,
                    dismissing=textcheck.posted_dismiss(request.POST),
                    warnings=warnings,
                )
            except ValidationError as exc:
                refused = _refused(form, exc)
            else:
                messages.success(request, _("已保存规则“%(name)s”") % {"name": rule.name})
                textcheck.warn(request, warnings)
                return redirect("replies:list")
    else:
        form = RuleForm(initial=RuleForm.initial_for(rule))
    return render(
        request,
        "replies/rule_form.html",
        {"account": account, "form": form, "rule": rule, "refused": refused},
    )


@console_view("rules.edit")
def rule_delete(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    rule = _rule_for(account, pk)
    if request.method == "POST":
        name = rule.name
        delete_rule(rule, actor=request.user)
        messages.success(request, _("已删除规则“%(name)s”") % {"name": name})
        return redirect("replies:list")
    return render(request, "replies/rule_confirm_delete.html", {"account": account, "rule": rule})


def _trigger_state(account: Account) -> tuple[dict[str, str], dict[str, str]]:
    """Current text of each trigger ("follow", "default", "click:KEY") and the kind of
    each trigger's first reply."""
    texts: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for r in Reply.objects.filter(account=account, rule__isnull=True).order_by(
        "trigger", "click_key", "position", "id"
    ):
        name = f"click:{r.click_key}" if r.trigger == Reply.Trigger.CLICK else r.trigger
        if name in kinds:
            continue
        kinds[name] = r.kind
        texts[name] = r.payload.get("content", "") if r.kind == Reply.Kind.TEXT else ""
    return texts, kinds


def _text_replies(text: str) -> list[ReplyInput]:
    return [ReplyInput(Reply.Kind.TEXT, {"content": text})] if text.strip() else []


@console_view("rules.edit")
def trigger_replies(request: HttpRequest, account: Account) -> HttpResponse:
    texts, kinds = _trigger_state(account)
    click_keys = sorted(k.removeprefix("click:") for k in kinds if k.startswith("click:"))
    refused = None
    if request.method == "POST":
        form = TriggerRepliesForm(request.POST)
        if form.is_valid():
            changed, refused = _save_triggers(request, account, form, texts, kinds)
            if changed is not None:
                if changed:
                    messages.success(request, _("已保存"))
                else:
                    messages.info(request, _("没有改动"))
                return redirect("replies:triggers")
    else:
        initial: dict[str, Any] = {
            "follow": texts.get("follow", ""),
            "default": texts.get("default", ""),
        }
        for i, key in enumerate(click_keys):
            initial[f"click_key_{i}"] = key
            initial[f"click_text_{i}"] = texts.get(f"click:{key}", "")
        form = TriggerRepliesForm(initial=initial, rows=len(click_keys) + EXTRA_CLICK_ROWS)
    labels = {k: str(Reply.Kind(v).label) for k, v in kinds.items() if v != Reply.Kind.TEXT}
    return render(
        request,
        "replies/trigger_replies.html",
        {
            "account": account,
            "form": form,
            "fields": [
                (form["follow"], labels.get("follow")),
                (form["default"], labels.get("default")),
            ],
            "refused": refused,
        },
    )


def _save_triggers(
    request: HttpRequest,
    account: Account,
    form: TriggerRepliesForm,
    texts: dict[str, str],
    kinds: dict[str, str],
) -> tuple[int | None, textcheck.TextRefused | None]:
    """Write what changed, all or nothing; the number of changes (None on errors), and
    the checker's refusal if it refused them."""
    wanted = form.clicks()
    changes: list[TriggerChange] = []
    for field in ("follow", "default"):
        text = form.cleaned_data[field]
        non_text = kinds.get(field, Reply.Kind.TEXT) != Reply.Kind.TEXT
        if text.strip() != texts.get(field, "").strip() and not (non_text and not text.strip()):
            changes.append(TriggerChange(field, _text_replies(text), "", field))
    old_keys = {k.removeprefix("click:") for k in kinds if k.startswith("click:")}
    for key in sorted(old_keys - set(wanted)):
        changes.append(TriggerChange(Reply.Trigger.CLICK, [], key))
    for key, (text, field) in wanted.items():
        name = f"click:{key}"
        if kinds.get(name, Reply.Kind.TEXT) != Reply.Kind.TEXT and not text.strip():
            continue  # a non-text reply the form cannot show: keep it
        if text.strip() != texts.get(name, "").strip() or (name not in kinds and text.strip()):
            changes.append(TriggerChange(Reply.Trigger.CLICK, _text_replies(text), key, field))
    if form.errors:
        return None, None
    warnings: list[textcheck.Found] = []
    try:
        save_trigger_replies(
            account,
            changes,
            actor=request.user,
            dismissing=textcheck.posted_dismiss(request.POST),
            warnings=warnings,
        )
    except textcheck.TextRefused as exc:
        return None, exc
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(None if field == NON_FIELD_ERRORS else field, errors)
        return None, None
    textcheck.warn(request, warnings)
    return len(changes), None


@console_view("rules.view")
def try_rule(request: HttpRequest, account: Account) -> HttpResponse:
    """Which rule answers a message, and with what: the keyword rules, then the default
    reply (the order the inbox pipeline uses for a text message)."""
    form = TryForm(request.GET or None)
    result: dict[str, Any] | None = None
    if form.is_valid():
        ruleset = load_ruleset(account.pk, account.rules_version)
        hit = ruleset.matcher.match(form.cleaned_data["text"])
        if hit is not None:
            result = {
                "how": "rule",
                "rule_pk": hit.pk,
                "rule_name": hit.name,
                "reply_all": hit.reply_all,
                "replies": [wire_summary(r.kind, r.data) for r in hit.replies],
            }
        elif ruleset.default:
            result = {
                "how": "default",
                "replies": [wire_summary(r.kind, r.data) for r in ruleset.default],
            }
        else:
            result = {"how": "none", "replies": []}
    template = (
        "replies/_try_result.html" if request.headers.get("HX-Request") else "replies/try.html"
    )
    return render(request, template, {"account": account, "try_form": form, "result": result})
