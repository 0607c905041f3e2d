"""设置 › 校对词表 (/settings/proofread/)."""

from django.urls import path

from . import views

app_name = "proofread"
urlpatterns = [
    path("proofread/", views.word_lists, name="word_lists"),
]
