"""Console URLs of the content app (included by content/urls.py under /content/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
