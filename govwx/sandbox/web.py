"""A stand-in for the government service websites that menus and guides link to.

Demo catalogues point their online entries here, so a demo runs offline and its link
checks stay on this host. Any path answers a plain page, except paths under `gone/`,
which answer 404 as a page that has been taken down does.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin


@xframe_options_sameorigin
def page(request: HttpRequest, path: str = "") -> HttpResponse:
    if path == "gone" or path.startswith("gone/"):
        raise Http404(path)
    return render(request, "sandbox/web.html", {"path": path})
