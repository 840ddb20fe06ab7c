"""WSGI entry of the test restaurant site."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bistro.settings")
application = get_wsgi_application()
