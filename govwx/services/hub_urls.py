"""The citizens' H5 pages: the hub, a category, a guide, an office, the search. No login."""

from django.urls import path

from . import hub_views

app_name = "hub"

urlpatterns = [
    path("<str:appid>/", hub_views.hub, name="hub"),
    path("<str:appid>/c/<str:category>/", hub_views.category, name="category"),
    path("<str:appid>/s/<str:code>/", hub_views.guide, name="guide"),
    path("<str:appid>/o/<str:code>/", hub_views.office, name="office"),
    path("<str:appid>/search/", hub_views.search, name="search"),
]
