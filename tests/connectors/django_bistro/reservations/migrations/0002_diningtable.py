# The room's tables (Backroom's floor).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reservations', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='DiningTable',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveSmallIntegerField(unique=True)),
                ('label', models.CharField(max_length=20)),
                ('seats', models.PositiveSmallIntegerField()),
                ('room', models.CharField(blank=True, max_length=40)),
            ],
        ),
    ]
