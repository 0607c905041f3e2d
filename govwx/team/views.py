"""The alerts page behind the console's bell."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govwx.accounts.services import accounts_for_user

from . import services
from .models import Alert, Rota


@login_required
def rota_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """The next 30 days of a rota the person's accounts share, as .ics."""
    rota = Rota.objects.filter(pk=pk, accounts__in=accounts_for_user(request.user)).first()
    if rota is None:
        raise Http404("no such rota")
    start = timezone.now()
    body = services.rota_ics(rota, start, start + timedelta(days=30))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rota-{rota.pk}.ics"'
    return response


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = Alert.objects.filter(recipients__id=request.user.pk or 0).order_by(
        "-created_at", "-id"
    )[:100]
    return render(request, "team/alerts.html", {"alerts": alerts})


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = Alert.objects.filter(pk=pk, recipients__id=request.user.pk or 0).first()
    if alert is None:
        raise Http404("no such alert")
    try:
        services.acknowledge(alert, request.user)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("已确认"))
    return redirect("team:alerts")
