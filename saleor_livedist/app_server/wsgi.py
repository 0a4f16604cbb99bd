"""App mode's WSGI application, for a production server: `gunicorn saleor_livedist.app_server.wsgi`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_livedist.app_server.settings")
application = get_wsgi_application()
