import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gaoxin.settings")

app = Celery("gaoxin")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each feature keeps its Celery tasks in its own tasks.py; their names stay "tasks_app.<name>".
app.autodiscover_tasks(["tasks_app.plans", "tasks_app.audit", "tasks_app.reminders"])
