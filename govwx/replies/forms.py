"""Console forms for keyword rules and trigger replies. They only parse what a person
typed into the services' input types; the services validate and write."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Keyword, Reply, Rule
from .services import (
    MAX_KEYWORDS_PER_RULE,
    MAX_REPLIES_PER_RULE,
    KeywordInput,
    ReplyInput,
    RuleInput,
)

REPLY_SLOTS = range(1, MAX_REPLIES_PER_RULE + 1)
EDITABLE_KINDS = (Reply.Kind.TEXT, Reply.Kind.NEWS, Reply.Kind.IMAGE)
# Kinds the form keeps as they are (set through `govwx rules import`)
KEPT_KINDS = (Reply.Kind.VOICE, Reply.Kind.VIDEO, Reply.Kind.MUSIC)
PREFIX_EXACT, PREFIX_REGEX, PREFIX_CONTAINS = "=", "~", "+"


def parse_keywords(text: str) -> list[KeywordInput]:
    """One keyword a line: "=word" exact, "~pattern" regex, "+word" or "word" contains."""
    out: list[KeywordInput] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith(PREFIX_EXACT):
            out.append(KeywordInput(line[1:].strip(), Keyword.Match.EXACT))
        elif line.startswith(PREFIX_REGEX):
            out.append(KeywordInput(line[1:], Keyword.Match.REGEX))
        elif line.startswith(PREFIX_CONTAINS):
            out.append(KeywordInput(line[1:].strip(), Keyword.Match.CONTAINS))
        else:
            out.append(KeywordInput(line.strip(), Keyword.Match.CONTAINS))
    return out


def format_keywords(keywords: list[Keyword]) -> str:
    lines = []
    for k in keywords:
        if k.match == Keyword.Match.EXACT:
            lines.append(PREFIX_EXACT + k.text)
        elif k.match == Keyword.Match.REGEX:
            lines.append(PREFIX_REGEX + k.text)
        elif k.text[:1] in (PREFIX_EXACT, PREFIX_REGEX, PREFIX_CONTAINS):
            lines.append(PREFIX_CONTAINS + k.text)
        else:
            lines.append(k.text)
    return "\n".join(lines)


class RuleForm(forms.Form):
    name = forms.CharField(label=_("规则名称"), max_length=60)
    keywords = forms.CharField(
        label=_("关键词"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
    )
    reply_mode = forms.ChoiceField(
        label=_("回复方式"), choices=Rule.ReplyMode.choices, initial=Rule.ReplyMode.RANDOM
    )
    priority = forms.IntegerField(
        label=_("优先级"),
        min_value=0,
        max_value=2_000_000_000,
        initial=100,
        help_text=_("数字越小越优先；相同时先建的规则优先。"),
    )
    enabled = forms.BooleanField(label=_("启用"), required=False, initial=True)
    handoff = forms.BooleanField(
        label=_("转人工办理"),
        required=False,
        help_text=_("回复的同时，把这条消息交给诉求办理（受理为诉求或并入该粉丝办理中的诉求）。"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Formatted per request: a lazy string formatted at import time would be frozen in
        # the language active then.
        self.fields["keywords"].help_text = _(
            "每行一个关键词，最多 %(n)s 个。以 = 开头为全匹配，以 ~ 开头为正则表达式，"
            "其余为半匹配（消息包含该词即可）；以 + 开头可让半匹配关键词以 = 或 ~ 开头。"
        ) % {"n": MAX_KEYWORDS_PER_RULE}
        kind_choices = [(k, label) for k, label in Reply.Kind.choices]
        for n in REPLY_SLOTS:
            self.fields[f"reply_{n}_kind"] = forms.ChoiceField(
                label=_("类型"), choices=kind_choices, initial=Reply.Kind.TEXT, required=False
            )
            self.fields[f"reply_{n}"] = forms.CharField(
                label=_("回复文字"),
                required=False,
                strip=True,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.fields[f"reply_{n}_title"] = forms.CharField(
                label=_("标题"), required=False, max_length=64
            )
            self.fields[f"reply_{n}_description"] = forms.CharField(
                label=_("摘要"), required=False, max_length=120
            )
            self.fields[f"reply_{n}_pic_url"] = forms.CharField(
                label=_("图片链接"), required=False, max_length=1024
            )
            self.fields[f"reply_{n}_url"] = forms.CharField(
                label=_("文章链接"), required=False, max_length=1024
            )
            self.fields[f"reply_{n}_media_id"] = forms.CharField(
                label=_("图片素材 media_id"),
                required=False,
                max_length=128,
                help_text=_("永久素材的 media_id（公众平台“素材管理”中的图片）"),
            )
            self.fields[f"reply_{n}_payload"] = forms.CharField(
                required=False, widget=forms.HiddenInput
            )
            self.fields[f"reply_{n}_remove"] = forms.BooleanField(
                label=_("移除这条回复"), required=False
            )
        self.reply_errors: list[str] = []

    @classmethod
    def initial_for(cls, rule: Rule) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": rule.name,
            "keywords": format_keywords(list(rule.keywords.all())),
            "reply_mode": rule.reply_mode,
            "priority": rule.priority,
            "enabled": rule.enabled,
            "handoff": rule.handoff,
        }
        for n, reply in enumerate(rule.replies.all(), start=1):
            initial[f"reply_{n}_kind"] = reply.kind
            p = reply.payload
            if reply.kind == Reply.Kind.TEXT:
                initial[f"reply_{n}"] = p.get("content", "")
            elif reply.kind == Reply.Kind.IMAGE:
                initial[f"reply_{n}_media_id"] = p.get("media_id", "")
            elif reply.kind == Reply.Kind.NEWS:
                first = (p.get("articles") or [{}])[0]
                initial[f"reply_{n}_title"] = first.get("title", "")
                initial[f"reply_{n}_description"] = first.get("description", "")
                initial[f"reply_{n}_pic_url"] = first.get("pic_url", "")
                initial[f"reply_{n}_url"] = first.get("url", "")
                initial[f"reply_{n}_payload"] = json.dumps(p, ensure_ascii=False)
            else:
                initial[f"reply_{n}_payload"] = json.dumps(p, ensure_ascii=False)
        return initial

    def slots(self) -> list[dict[str, Any]]:
        """The reply slots as the template shows them."""
        out = []
        for n in REPLY_SLOTS:
            kind = self[f"reply_{n}_kind"].value() or Reply.Kind.TEXT
            out.append(
                {
                    "n": n,
                    "kind": kind,
                    "kept": kind in KEPT_KINDS,
                    "kind_label": Reply.Kind(kind).label if kind in Reply.Kind.values else kind,
                    "kind_field": self[f"reply_{n}_kind"],
                    "text": self[f"reply_{n}"],
                    "title": self[f"reply_{n}_title"],
                    "description": self[f"reply_{n}_description"],
                    "pic_url": self[f"reply_{n}_pic_url"],
                    "url": self[f"reply_{n}_url"],
                    "media_id": self[f"reply_{n}_media_id"],
                    "payload": self[f"reply_{n}_payload"],
                    "remove": self[f"reply_{n}_remove"],
                }
            )
        return out

    def _payload(self, n: int) -> dict[str, Any]:
        raw = self.cleaned_data.get(f"reply_{n}_payload") or ""
        try:
            value = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def replies(self) -> list[ReplyInput]:
        out: list[ReplyInput] = []
        for n in REPLY_SLOTS:
            kind = self.cleaned_data.get(f"reply_{n}_kind") or Reply.Kind.TEXT
            if self.cleaned_data.get(f"reply_{n}_remove"):
                continue
            if kind == Reply.Kind.TEXT:
                text = self.cleaned_data.get(f"reply_{n}", "")
                if text:
                    out.append(ReplyInput(kind, {"content": text}))
            elif kind == Reply.Kind.IMAGE:
                media_id = self.cleaned_data.get(f"reply_{n}_media_id", "").strip()
                if media_id:
                    out.append(ReplyInput(kind, {"media_id": media_id}))
            elif kind == Reply.Kind.NEWS:
                article = {
                    k: self.cleaned_data.get(f"reply_{n}_{k}", "")
                    for k in ("title", "description", "pic_url", "url")
                }
                if any(article.values()):
                    # Articles after the first are kept as they were.
                    rest = self._payload(n).get("articles") or []
                    out.append(ReplyInput(kind, {"articles": [article, *rest[1:]]}))
            else:
                payload = self._payload(n)
                if payload:
                    out.append(ReplyInput(kind, payload))
        return out

    def to_input(self) -> RuleInput:
        d = self.cleaned_data
        return RuleInput(
            name=d["name"],
            keywords=parse_keywords(d.get("keywords", "")),
            replies=self.replies(),
            priority=d["priority"],
            reply_mode=d["reply_mode"],
            enabled=d["enabled"],
            handoff=d.get("handoff", False),
        )

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's ValidationError on the fields it names."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for field, messages in exc.message_dict.items():
            if field == "replies":
                self.reply_errors.extend(messages)
            elif field in self.fields:
                self.add_error(field, messages)
            else:
                self.add_error(None, messages)


class TryForm(forms.Form):
    text = forms.CharField(label=_("粉丝发送的消息"), max_length=2048, strip=False)


class TriggerRepliesForm(forms.Form):
    """The follow reply, the default reply and the menu-click replies, all as text.

    A blank text switches a reply off; a menu row with a blank key is ignored.
    """

    follow = forms.CharField(
        label=_("被关注回复"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("粉丝关注公众号时自动发送。留空则不回复。"),
    )
    default = forms.CharField(
        label=_("收到消息回复"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("没有关键词规则命中时发送。留空则不回复。"),
    )
    click_rows = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=100)

    def __init__(self, *args: Any, rows: int = 3, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound:
            try:
                rows = max(0, min(100, int(self.data.get("click_rows", rows))))
            except (TypeError, ValueError):
                rows = 0
        self.rows = rows
        self.fields["click_rows"].initial = rows
        for i in range(rows):
            self.fields[f"click_key_{i}"] = forms.CharField(
                label=_("菜单 key"), required=False, max_length=128
            )
            self.fields[f"click_text_{i}"] = forms.CharField(
                label=_("回复文字"), required=False, widget=forms.Textarea(attrs={"rows": 2})
            )

    def click_rows_bound(self) -> list[tuple[Any, Any]]:
        return [(self[f"click_key_{i}"], self[f"click_text_{i}"]) for i in range(self.rows)]

    def clicks(self) -> dict[str, tuple[str, str]]:
        """{key: (text, row field name)} of the rows with a key."""
        out: dict[str, tuple[str, str]] = {}
        for i in range(self.rows):
            key = self.cleaned_data.get(f"click_key_{i}", "").strip()
            if not key:
                continue
            if key in out:
                self.add_error(f"click_key_{i}", _("菜单 key 重复"))
                continue
            out[key] = (self.cleaned_data.get(f"click_text_{i}", ""), f"click_text_{i}")
        return out
