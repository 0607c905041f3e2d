from django.urls import path

from . import views

app_name = "team"
urlpatterns = [
    path("alerts/", views.alert_list, name="alerts"),
    path("rotas/<int:pk>/rota.ics", views.rota_ics, name="rota_ics"),
    path("alerts/<int:pk>/ack/", views.acknowledge, name="ack"),
]
