"""Serves fastapi_reference.py as `uvicorn --workers N` does, but with TCP_NODELAY on its
connections.

    DATABASE_URL=postgres://... .venv/bin/python -m benchmarks.fastapi_serve PORT [WORKERS]

`uvicorn --workers N` binds its listening socket with proto 0, and asyncio turns Nagle's
algorithm off only on connections accepted from a socket whose proto is IPPROTO_TCP (uvicorn
issue #3149, open for 0.54.0). Every keep-alive response whose body goes out in a second small
write then waits for the client's delayed ACK, ~40 ms: measured here, 2 workers answered
/healthz at ~180 req/s with wrk -c8. A reference held back by that would flatter our figures, so
the socket is bound here as asyncio would bind it and handed to uvicorn's own supervisor.
"""

import socket
import sys

from uvicorn import Config
from uvicorn.supervisors import Multiprocess


def main() -> None:
    port = int(sys.argv[1])
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    config = Config(
        "benchmarks.fastapi_reference:app",
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # as gunicorn.conf.py: accesslog = None
    )
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((config.host, config.port))
    listener.set_inheritable(True)
    Multiprocess(config, sockets=[listener]).run()


if __name__ == "__main__":
    main()
