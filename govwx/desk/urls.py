from django.urls import path

from . import views

app_name = "desk"
urlpatterns = [
    path("rate/<str:token>/", views.rate, name="rate"),
]
