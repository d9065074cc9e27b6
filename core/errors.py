"""The project's own errors: services and selectors raise these, never HTTP exceptions.

Each carries a `detail`: a message, or messages keyed by field or item (the shape the API
answers with). `core.api.exceptions` maps each kind to its HTTP status, in one place.
"""


class DomainError(Exception):
    """A request the domain refuses; `detail` says why."""

    default_detail = "The request was refused."

    def __init__(self, detail: str | dict | None = None) -> None:
        self.detail = self.default_detail if detail is None else detail
        super().__init__(self.detail)


class InvalidInput(DomainError):
    """The input breaks a rule of its own: a bad value, shape or combination."""

    default_detail = "Bad request."


class NotAllowed(DomainError):
    """The user may not do this (found while doing it, e.g. a body that names new factories)."""

    default_detail = "Permission denied."


class NotFound(DomainError):
    """What the request names does not exist."""

    default_detail = "Not found."


class Conflict(DomainError):
    """The write would break a uniqueness or protection rule of the data as it stands."""

    default_detail = "The request conflicts with the current state of the data."


class TooLarge(DomainError):
    """The input is over a size limit (rows, points, buckets)."""

    default_detail = "The request is too large."
