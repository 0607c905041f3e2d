from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def callback(request: HttpRequest, appid: str) -> HttpResponse:
    return HttpResponse(status=501)
