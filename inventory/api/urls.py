from inventory.api.views import FactoryViewSet, SprocketViewSet
from sprocket_factory.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("sprockets", SprocketViewSet, basename="sprocket")
router.register("factories", FactoryViewSet, basename="factory")

urlpatterns = router.urls
