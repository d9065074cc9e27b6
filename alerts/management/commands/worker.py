from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_q.models import Schedule

from alerts.models import WorkerBeat
from alerts.tasks import TICK

PARTITIONS = "production partitions"


def _schedule_ensure(name: str, **fields) -> None:
    """One schedule of this name, as given (two workers starting at once may have made two)."""
    first, *others = Schedule.objects.filter(name=name).order_by("pk") or [None]
    for other in others:
        other.delete()
    if first is None:
        Schedule.objects.create(name=name, **fields)
        return
    for field, value in fields.items():
        setattr(first, field, value)
    first.save()


def worker_schedules_ensure() -> None:
    """The periodic tasks, as the settings say now: the alerts tick, and partition
    maintenance hourly (it does nothing where records are not partitioned)."""
    now = timezone.now()
    _schedule_ensure(
        TICK,
        func="alerts.tasks.alerts_tick",
        schedule_type=Schedule.MINUTES,
        minutes=settings.ALERT_TICK_MINUTES,
        repeats=-1,
        next_run=now,
    )
    _schedule_ensure(
        PARTITIONS,
        func="production.partitions.production_partitions_maintain",
        schedule_type=Schedule.HOURLY,
        repeats=-1,
        next_run=now,
    )


class Command(BaseCommand):
    help = (
        "Run the background worker (django-q2): alert evaluation after production writes, "
        "the alerts tick every ALERT_TICK_MINUTES, webhook deliveries and their retries, and "
        "hourly partition maintenance. SIGTERM stops it after the tasks running finish. "
        "--check: exit 1 unless the tick ran within three tick periods (a health check)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="health check, then exit")

    def handle(self, *args, **options) -> None:
        if options["check"]:
            self._check()
            return
        worker_schedules_ensure()
        call_command("qcluster")

    def _check(self) -> None:
        beat = WorkerBeat.objects.filter(name=TICK).first()
        late = timezone.now() - timedelta(minutes=3 * settings.ALERT_TICK_MINUTES)
        if beat is None or beat.at < late:
            since = "never" if beat is None else beat.at.isoformat()
            raise CommandError(f"The worker's tick has not run for three periods (last: {since}).")
        self.stdout.write(f"ok: tick at {beat.at.isoformat()}")
