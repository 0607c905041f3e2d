"""Console URLs of publishing to WeChat (included by content/urls.py under /content/):
retrying a failed publish, and 群发 (mass send)."""

from django.urls import URLPattern, path

from . import publishing_views as v

urlpatterns: list[URLPattern] = [
    path("articles/<int:pk>/publish/retry/", v.retry, name="publish_retry"),
    path("mass/", v.mass_page, name="mass"),
    path("mass/send/", v.mass_send, name="mass_send"),
    path("mass/preview/", v.mass_preview, name="mass_preview"),
    path("mass/tags/", v.mass_tags, name="mass_tags"),
    path("mass/<int:pk>/", v.mass_detail, name="mass_detail"),
    path("mass/<int:pk>/delete/", v.mass_delete, name="mass_delete"),
]
