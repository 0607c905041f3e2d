"""The content app's public pages: articles' H5 pages, feeds and the embeddable list
(namespace `content_web`, mounted at the site's root)."""

from django.urls import URLPattern

app_name = "content_web"

urlpatterns: list[URLPattern] = []
