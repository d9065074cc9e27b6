from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Every route answers with or without a trailing slash, for every method."""

    def __init__(self) -> None:
        super().__init__()
        # Set after construction: the constructor would normalise "/?" away.
        self.trailing_slash = "/?"
