"""Scales out on Citus: where the database has the citus extension, distributes the image table
by id over the workers (applyblur and BlurredImage then read from all of them, and a lookup by
primary key is routed to the one worker that holds the row). Elsewhere it does nothing, so the
same application runs on a single PostgreSQL server unchanged.

create_distributed_table copies the rows already in the table to the shards; the copies left
in the coordinator's own table are then removed. The role that runs the migration must own the
table; Citus itself (the extension and the worker nodes) is set up by a superuser beforehand
(README, Scaling out)."""
from django.db import migrations

DISTRIBUTE = """
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        IF NOT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = 'image_process_imagefile'::regclass) THEN
            PERFORM create_distributed_table('image_process_imagefile', 'id');
            PERFORM truncate_local_data_after_distributing_table('image_process_imagefile');
        END IF;
    END IF;
END
$$;
"""

UNDISTRIBUTE = """
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        IF EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = 'image_process_imagefile'::regclass) THEN
            PERFORM undistribute_table('image_process_imagefile');
        END IF;
    END IF;
END
$$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("image_process", "0005_bytea_blur_extension"),
    ]

    operations = [
        migrations.RunSQL(DISTRIBUTE, reverse_sql=UNDISTRIBUTE),
    ]
