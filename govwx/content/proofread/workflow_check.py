"""The proofreader as a check of the editorial workflow (registered in
`content.workflow.CHECKS` by the app's `ready()`): every finding in the article's title,
author, digest and body, each named by its paragraph and its key (`proofread.article`),
with the dismissal that holds for that paragraph and the way to dismiss it — the same
`Dismissal` the editor reads and writes."""

from __future__ import annotations

from typing import Any

from govwx.content import workflow
from govwx.content.models import Article, Dismissal

from . import article as proofread_article
from .article import Located


def _dismissed(d: Dismissal) -> dict[str, Any]:
    by = d.by
    return {
        "reason": d.reason,
        "by": by.pk if by else None,
        "by_name": (by.get_full_name() or by.get_username()) if by else "",
        "at": d.at.isoformat(),
    }


def _dismisser(article: Article, x: Located) -> Any:
    def dismiss(actor: Any, reason: str) -> dict[str, Any]:
        return _dismissed(proofread_article.dismiss(article.account, x, reason, actor=actor))

    return dismiss


def proofreading(article: Article) -> list[workflow.Finding]:
    """The proofreader's findings as the workflow's: one per paragraph and key (the same
    words twice in one paragraph are one thing to fix or dismiss)."""
    found: dict[str, workflow.Finding] = {}
    for x in proofread_article.locate_article(article):
        if x.code in found:
            continue
        found[x.code] = workflow.Finding(
            x.finding.severity,
            proofread_article.describe(x),
            x.code,
            dismissed=_dismissed(x.dismissal) if x.dismissal is not None else None,
            dismiss=_dismisser(article, x),
        )
    return list(found.values())
