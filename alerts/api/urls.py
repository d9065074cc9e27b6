from alerts.api.views import AlertRuleViewSet, AlertViewSet
from core.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("alerts/rules", AlertRuleViewSet, basename="alert-rule")
router.register("alerts", AlertViewSet, basename="alert")

urlpatterns = router.urls
