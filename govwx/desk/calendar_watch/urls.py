from django.urls import path

from . import views

app_name = "calendar"

urlpatterns = [
    path("", views.years, name="years"),
    path("year/", views.year, name="year"),
    path("banner/", views.banner, name="banner"),
]
