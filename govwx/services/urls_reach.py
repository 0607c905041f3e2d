from django.urls import URLPattern, path

from . import reach_views

urlpatterns: list[URLPattern] = [
    path("reach/", reach_views.reach_page, name="reach"),
    path("analytics/", reach_views.analytics_page, name="analytics"),
]
