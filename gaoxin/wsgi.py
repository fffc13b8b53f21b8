import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gaoxin.settings")
# A web process reads and writes no government outside a request (tasks_app.common.rls).
os.environ["GAOXIN_RLS_DEFAULT"] = "none"
application = get_wsgi_application()
