"""`manage.py worker`: its schedules (the alerts tick, partition maintenance) written once
however many workers start, and its health check reading the tick's heartbeat."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule

from alerts.management.commands.worker import PARTITIONS, worker_schedules_ensure
from alerts.models import WorkerBeat
from alerts.tasks import TICK, alerts_tick
from alerts.tests.factories import no_production_rule

pytestmark = pytest.mark.django_db


def test_the_schedules_are_written_once_as_the_settings_say(settings):
    settings.ALERT_TICK_MINUTES = 2
    Schedule.objects.create(name=TICK, func="alerts.tasks.alerts_tick")  # a second worker's

    worker_schedules_ensure()
    worker_schedules_ensure()

    assert sorted(Schedule.objects.values_list("name", flat=True)) == sorted([TICK, PARTITIONS])
    tick = Schedule.objects.get(name=TICK)
    assert (tick.schedule_type, tick.minutes, tick.repeats) == (Schedule.MINUTES, 2, -1)


def test_the_health_check_fails_until_the_tick_ran_and_again_when_it_stops(capsys):
    with pytest.raises(CommandError, match="never"):
        call_command("worker", "--check")

    alerts_tick()
    call_command("worker", "--check")
    assert "ok: tick at" in capsys.readouterr().out

    WorkerBeat.objects.update(at=timezone.now() - timedelta(minutes=4))
    with pytest.raises(CommandError, match="three periods"):
        call_command("worker", "--check")


def test_a_rule_for_an_archived_factory_is_a_400(api_client_as):
    from inventory.tests.factories import FactoryFactory

    archived = FactoryFactory(is_active=False)
    body = no_production_rule(factory_id=archived.pk)

    response = api_client_as("manager").post(
        "/sprocketFactory/v1/alerts/rules", body, format="json"
    )

    assert response.status_code == 400
    assert "archived" in str(response.json()["factory_id"])
