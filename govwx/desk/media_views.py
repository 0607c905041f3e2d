"""What citizens send, on the case page: a message's media served only to people who
may see its case (no public URL), and a picture as a reply."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view
from govwx.wechat.models import media_storage

from . import media, services
from .models import Case

# Larger than WeChat's 10 MB for a picture: the service says so in words, the request
# is not cut off.
UPLOAD_LIMIT = 12 * 1024 * 1024


def _account_of_case(pk: int) -> int | None:
    return Case.objects.filter(pk=pk).values_list("account_id", flat=True).first()


@console_view("cases.view", account_of=media.account_of_media)
@require_GET
def media_file(request: HttpRequest, account: Account, pk: int) -> FileResponse:
    """The file (or with ?thumb=1 a picture's thumbnail), for people who can see the case."""
    found, _case = media.get_media_for_user(request.user, pk)
    thumb = request.GET.get("thumb") == "1"
    name = found.thumbnail.name if thumb else found.file.name
    if not name:
        raise Http404("no such file")
    try:
        handle = media_storage().open(name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("file missing") from exc
    content_type = "image/jpeg" if thumb else found.content_type
    ext = name.rsplit(".", 1)[-1]
    # a picture, video or MP3 shows in the page; AMR voice (which browsers do not play)
    # and anything else is a download
    inline = content_type.startswith(("image/", "video/")) or content_type == "audio/mpeg"
    inline = inline or thumb
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not inline,
        filename=f"{found.kind}-{found.pk}.{ext}",
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@console_view("cases.handle", account_of=_account_of_case)
@require_POST
def reply_picture(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    case = services.get_case_for_user(request.user, pk)
    upload = request.FILES.get("picture")
    try:
        revision = int(request.POST.get("revision", ""))
    except ValueError:
        revision = -1
    try:
        if upload is None:
            raise ValidationError(_("请选择要发送的图片。"))
        if upload.size is not None and upload.size > UPLOAD_LIMIT:
            raise ValidationError(
                _("图片有 %(size).1f MB，超过微信允许的 10 MB，请压缩后再发送。")
                % {"size": upload.size / 1024 / 1024}
            )
        media.reply_with_picture(
            case, upload.read(), upload.name or "", revision=revision, actor=request.user
        )
    except services.Conflict as exc:
        messages.error(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text or _("操作不被允许"))
    else:
        messages.success(request, _("图片已发送给群众"))
    return redirect("desk:case", pk=case.pk)
