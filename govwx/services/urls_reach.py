from django.urls import URLPattern, path

from . import links_views, reach_views

urlpatterns: list[URLPattern] = [
    path("reach/", reach_views.reach_page, name="reach"),
    path("analytics/", reach_views.analytics_page, name="analytics"),
    path("links/", links_views.links_page, name="links"),
    path("links/check/", links_views.links_check, name="links_check"),
]
