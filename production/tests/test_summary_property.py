"""GET /production/summary (DESIGN §4 Summary): the property, that for any records, bucket, zone
and window the summary equals the oracle (summary_helpers.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inventory.models import Factory
from inventory.tests.factories import FactoryFactory
from production.models import ProductionRecord
from production.tests.summary_helpers import BUCKETS, ZONES, get_summary, oracle, store, zones_of

pytestmark = pytest.mark.django_db


PERIOD_START = datetime(2021, 3, 8, tzinfo=UTC)  # a Monday
PERIOD_SECONDS = 40 * 86400
# Chicago and Berlin enter summer time inside the period; a month starts on 2021-04-01.
CROWDED_MOMENTS = [
    int((moment - PERIOD_START).total_seconds())
    for moment in (
        datetime(2021, 3, 14, 8, tzinfo=UTC),
        datetime(2021, 3, 28, 1, tzinfo=UTC),
        datetime(2021, 4, 1, tzinfo=UTC),
        datetime(2021, 3, 15, tzinfo=UTC),  # a Monday
    )
]

# Anywhere in the period, or crowded within hours of a DST change or a week or month start,
# where local bucket starts differ most between zones.
seconds_in_period = st.one_of(
    st.integers(0, PERIOD_SECONDS - 1),
    st.builds(int.__add__, st.sampled_from(CROWDED_MOMENTS), st.integers(-7 * 3600, 7 * 3600)),
)


@st.composite
def summary_cases(draw) -> dict:
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=3))
    records = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(zones) - 1),
                seconds_in_period,
                st.integers(0, 60),
                st.one_of(st.just(0), st.integers(0, 60)),
            ),
            max_size=60,
        )
    )
    window = draw(
        st.tuples(
            st.one_of(st.none(), st.integers(-86400, PERIOD_SECONDS)),
            st.one_of(st.none(), st.integers(-86400, PERIOD_SECONDS + 86400)),
        )
    )
    return {
        "zones": zones,
        "records": records,
        "bucket": draw(st.sampled_from(BUCKETS)),
        "tz": draw(st.one_of(st.none(), st.sampled_from(ZONES))),
        "window": window,
        "time_format": draw(st.sampled_from(["iso", "unix"])),
    }


def _moment(offset: int) -> datetime:
    return PERIOD_START + timedelta(seconds=offset)


def _as_param(moment: datetime | None, time_format: str) -> str | None:
    if moment is None:
        return None
    if time_format == "unix":
        return str(int(moment.timestamp()))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=summary_cases())
def test_summary_equals_the_oracle_for_any_records_bucket_zone_and_window(api_client, case):
    after_offset, before_offset = case["window"]
    assume(after_offset is None or before_offset is None or after_offset < before_offset)
    ProductionRecord.objects.all().delete()
    Factory.objects.all().delete()
    factories = [FactoryFactory(timezone=zone) for zone in case["zones"]]
    unique = {
        (factories[position].pk, _moment(offset)): (actual, goal)
        for position, offset, actual, goal in case["records"]
    }
    records = store((pk, moment, *values) for (pk, moment), values in unique.items())
    after = _moment(after_offset) if after_offset is not None else None
    before = _moment(before_offset) if before_offset is not None else None

    response = get_summary(
        api_client,
        bucket=case["bucket"],
        tz=case["tz"],
        after=_as_param(after, case["time_format"]),
        before=_as_param(before, case["time_format"]),
    )

    assert response.status_code == 200
    assert response.json() == oracle(
        records,
        zones_of(factories),
        bucket=case["bucket"],
        tz=case["tz"],
        after=after,
        before=before,
    )
