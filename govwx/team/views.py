"""The alerts page behind the console's bell."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services
from .models import Alert


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
