"""The citizens' H5 pages: the hub, a category, a guide, the search. No login."""

from django.urls import URLPattern

app_name = "hub"

urlpatterns: list[URLPattern] = []
