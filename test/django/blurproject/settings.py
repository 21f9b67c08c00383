"""Settings of the test project: the image_process app of the original application, on a
PostgreSQL database reached through the usual libpq variables (PGHOST, PGPORT, PGUSER)."""
import os
import tempfile

SECRET_KEY = "bytea_blur test project, not a secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.postgres",
    "image_process",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "blurproject.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BB_DJANGO_DB", "bb_django"),
        "USER": os.environ.get("PGUSER", ""),
        "HOST": os.environ.get("PGHOST", ""),
        "PORT": os.environ.get("PGPORT", ""),
        "TEST": {"NAME": os.environ.get("BB_DJANGO_TEST_DB") or None},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
MEDIA_ROOT = os.environ.get("BB_DJANGO_MEDIA", tempfile.mkdtemp(prefix="bb_django_media_"))
# where a live server (the browser test) serves media and static files from: not the app's pages
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
USE_TZ = True
TEMPLATES = []
