"""Every setting the service reads from the environment is documented."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
READS = re.compile(
    r"""env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"|environ(?:\.get|\.setdefault)?\(\s*"([A-Z][A-Z0-9_]+)"|environ\["([A-Z][A-Z0-9_]+)"\]"""
)
# Set by manage.py for its own commands (the requests' statement timeout), never by hand.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE", "REQUEST_STATEMENT_TIMEOUT"}


def settings_read() -> set[str]:
    names = set()
    for source in ("sprocket_factory/settings.py", "sprocket_factory/gunicorn.conf.py"):
        for match in READS.finditer((ROOT / source).read_text()):
            names.add(next(group for group in match.groups() if group))
    return names - NOT_SETTINGS


def test_the_settings_found_are_the_ones_we_know_of():
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "WEB_CONCURRENCY"} <= settings_read()


def test_every_setting_is_in_the_env_example():
    example = (ROOT / ".env.example").read_text()

    assert sorted(n for n in settings_read() if not re.search(rf"^{n}=", example, re.M)) == []


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()

    assert sorted(n for n in settings_read() if f"`{n}`" not in readme) == []
