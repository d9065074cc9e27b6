import tracemalloc, pytest
from production.tests.test_export import insert_minutes, PRODUCTION
from inventory.tests.factories import FactoryFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rows", [5000, 20000, 40000])
def test_probe(api_client_as, rows):
    viewer = api_client_as("viewer")
    plant = FactoryFactory()
    insert_minutes(plant, rows)
    r = viewer.get(f"{PRODUCTION}/{plant.pk}?format=csv")
    it = iter(r.streaming_content)
    tracemalloc.start(25)
    size = 0
    peak_at = None
    maxpeak = 0
    for c in it:
        size += len(c)
        cur, peak = tracemalloc.get_traced_memory()
    snap = tracemalloc.take_snapshot()
    print(rows, size, tracemalloc.get_traced_memory())
    tracemalloc.stop()
