#!/usr/bin/python3
"""Applies image_process's original migrations 0001 to 0004 one by one, as an existing
deployment of the application ran them before bytea_blur existed. (A new database would use
the squashed migration instead.) Then `manage.py migrate` adds 0005, the extension."""
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blurproject.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402

executor = MigrationExecutor(connection)
executor.loader = MigrationLoader(connection, replace_migrations=False)
targets = [("contenttypes", "0002_remove_content_type_name"), ("image_process", "0004_blurredimage")]
plan = executor.migration_plan(targets)
for migration, _ in plan:
    print(f"  Applying {migration.app_label}.{migration.name}")
executor.migrate(targets, plan=plan)
