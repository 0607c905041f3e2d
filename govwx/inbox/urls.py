from django.urls import path

from . import views

app_name = "inbox"
urlpatterns = [
    path("<str:appid>/callback", views.callback, name="callback"),
]
