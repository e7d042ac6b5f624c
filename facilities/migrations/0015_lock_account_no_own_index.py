"""Lock.account loses its own index: the (account, status) indexes start with it, so it only
cost a write on every lock change (and, on a small table, let the planner count the lock limit
from it instead of the index that answers alone)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_auditevent_report_actions"),
        ("facilities", "0014_report_and_feed_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="lock",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="locks",
                to="accounts.account",
            ),
        ),
    ]
