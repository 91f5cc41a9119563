"""Django settings of the django-celery-results peer: one database from $DJANGO_DB_URL."""
import os
from urllib.parse import urlparse

SECRET_KEY = 'celery-wire-test-only'
USE_TZ = True
TIME_ZONE = 'UTC'
INSTALLED_APPS = ['django_celery_results']
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'

_u = urlparse(os.environ['DJANGO_DB_URL'])
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': _u.path.lstrip('/'),
        'USER': _u.username or '',
        'PASSWORD': _u.password or '',
        'HOST': _u.hostname or '127.0.0.1',
        'PORT': str(_u.port or 5432),
    }
}
