"""Logs as structured lines: one JSON object per line in production, readable text in
development, each with a timestamp, level, logger and the request's id."""

import structlog
from structlog.tracebacks import ExceptionDictTransformer

LOG_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
]

# Tracebacks as data, without the values of each frame's local variables: those hold tokens,
# header values and request bodies, which must never reach a log (structlog shows them by
# default). The console's plain traceback never shows them.
DICT_TRACEBACKS = structlog.processors.ExceptionRenderer(
    ExceptionDictTransformer(show_locals=False)
)


def logging_config(*, level: str, log_format: str) -> dict:
    """Django's LOGGING: every record through structlog's formatter (`json` or `console`)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": LOG_PROCESSORS,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *(
                        [DICT_TRACEBACKS, structlog.processors.JSONRenderer()]
                        if log_format == "json"
                        else [
                            structlog.dev.ConsoleRenderer(
                                colors=False, exception_formatter=structlog.dev.plain_traceback
                            )
                        ]
                    ),
                ],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # The request log line says what django.request would repeat for 4xx answers.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }


def structlog_configure() -> None:
    """structlog's own loggers go through the standard library, and so through LOGGING."""
    structlog.configure(
        processors=[*LOG_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
