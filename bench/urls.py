"""The application's URLs plus /bench/insert/: the fastest Django view that stores one report row.

The baseline of benchmark 1: same server, same database, one INSERT, no auth or validation.
"""

import json

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from gaoxin.urls import urlpatterns as app_urlpatterns


@csrf_exempt
def insert_one(request):
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_baseline (task_id, body) VALUES (%s, %s) RETURNING id",
            [body["task"], request.body.decode()],
        )
        new_id = cursor.fetchone()[0]
    return JsonResponse({"id": new_id}, status=201)


urlpatterns = [path("bench/insert/", insert_one), *app_urlpatterns]
