"""What citizens send, in the case: access to a message's media for the people who may
see its case, and a picture as a reply (uploaded as temporary media, sent as a
customer-service image message)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from govwx.accounts.services import record
from govwx.wechat import media as channel
from govwx.wechat.client import MediaRefused, WeChatAPIError, WeChatClient
from govwx.wechat.models import MessageMedia
from govwx.wechat.protocol import Reply
from govwx.wechat.services import queue_customer_messages

from .models import OPEN_STATUSES, Case, CaseMessage, Status
from .services import _move, _require_in_department, get_case_for_user

PICTURE_TEXT = "[图片]"


def case_of_media(media: MessageMedia) -> int | None:
    """The case a media file belongs to: its inbound message's, or the reply's."""
    found = (
        CaseMessage.objects.filter(
            Q(inbound_id=media.inbound_id) if media.inbound_id else Q(outbound_id=media.outbound_id)
        )
        .values_list("case_id", flat=True)
        .first()
    )
    return found


def account_of_media(pk: int) -> int | None:
    return MessageMedia.objects.filter(pk=pk).values_list("account_id", flat=True).first()


def get_media_for_user(user: Any, pk: int) -> tuple[MessageMedia, Case]:
    """A stored media file for someone who may see its case (`get_case_for_user`): 404
    for anyone else, as for the case itself."""
    found = MessageMedia.objects.filter(pk=pk, status=MessageMedia.Status.STORED).first()
    case_id = case_of_media(found) if found is not None else None
    if found is None or case_id is None:
        raise Http404("no such media")
    case = get_case_for_user(user, case_id)
    if case.account_id != found.account_id:
        raise Http404("no such media")
    return found, case


def reply_with_picture(
    case: Case, content: bytes, filename: str, *, revision: int, actor: Any
) -> CaseMessage:
    """Answer the citizen with a picture: checked against WeChat's rules (JPG, PNG or GIF,
    at most 10 MB) before any API call, uploaded as temporary media, then sent as a
    customer-service image message after the commit, like a text reply."""
    _require_in_department(
        actor, case, "cases.handle", _("只有主办部门可以答复 / only the lead department replies")
    )
    if case.status not in OPEN_STATUSES:
        raise ValidationError(_("当前状态不能答复"))
    try:
        ext, content_type = channel.check_picture(content)
    except channel.PictureRefused as exc:
        raise ValidationError(str(exc)) from exc
    try:  # outside any transaction: WeChat may be slow
        media_id = WeChatClient(case.account).upload_media(
            "image", f"reply.{ext}", content, content_type
        )
    except MediaRefused as exc:
        raise ValidationError(
            _("微信拒收这张图片（%(code)s %(msg)s）。") % {"code": exc.errcode, "msg": exc.errmsg}
        ) from exc
    except WeChatAPIError as exc:
        raise ValidationError(
            _("暂时无法把图片上传到微信，请稍后再试（%(error)s）。") % {"error": exc}
        ) from exc
    file_name, thumb = channel.save_files(case.account_id, content, content_type, filename)
    now = timezone.now()
    with transaction.atomic():
        _move(
            case,
            revision,
            actor,
            "case.replied",
            {"picture": True},
            status=Status.ANSWERED,
            answered_at=now,
            first_responded_at=Coalesce("first_responded_at", Value(now)),
        )
        [outbound_id] = queue_customer_messages(
            case.account_id, case.openid, [Reply("image", {"media_id": media_id})]
        )
        record(
            "case.picture_sent",
            account=case.account,
            actor=actor,
            case=case.pk,
            outbound=outbound_id,
            size=len(content),
        )
        MessageMedia.objects.create(
            account_id=case.account_id,
            outbound_id=outbound_id,
            kind="image",
            media_id=media_id,
            status=MessageMedia.Status.STORED,
            file=file_name,
            thumbnail=thumb,
            content_type=content_type,
            size=len(content),
            created_at=now,
            stored_at=now,
        )
        return CaseMessage.objects.create(
            case=case,
            direction=CaseMessage.Direction.OUT,
            outbound_id=outbound_id,
            author=actor,
            text=PICTURE_TEXT,
            created_at=now,
        )


def with_media_links(cases: Iterable[Case], size: int = 500) -> Iterator[tuple[Case, str]]:
    """Each case with the links to its stored media (for the CSV export), two queries a
    chunk of cases: the links open only for people who may see the case."""
    chunk: list[Case] = []
    for case in cases:
        chunk.append(case)
        if len(chunk) == size:
            yield from _linked(chunk)
            chunk = []
    if chunk:
        yield from _linked(chunk)


def _linked(chunk: list[Case]) -> Iterator[tuple[Case, str]]:
    ids = [c.pk for c in chunk]
    found: dict[int, list[int]] = defaultdict(list)
    pairs = list(
        MessageMedia.objects.filter(
            status=MessageMedia.Status.STORED, inbound__case_message__case_id__in=ids
        ).values_list("inbound__case_message__case_id", "pk")
    ) + list(
        CaseMessage.objects.filter(
            case_id__in=ids, outbound__media__status=MessageMedia.Status.STORED
        ).values_list("case_id", "outbound__media__pk")
    )
    for case_id, pk in sorted(pairs, key=lambda p: p[1]):
        found[case_id].append(pk)
    base = str(settings.GOVWX_PUBLIC_URL).rstrip("/")
    for case in chunk:
        yield case, " ".join(base + reverse("desk:media", args=[pk]) for pk in found[case.pk])
