"""A FastAPI + asyncpg + orjson reference for bench_reads.py: what a user would write instead of
our stack, over the same PostgreSQL database, answering the same JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME \\
        .venv/bin/python -m benchmarks.fastapi_serve PORT 2

(`uvicorn benchmarks.fastapi_reference:app --workers 2` serves it too, but each keep-alive
response then waits ~40 ms: see fastapi_serve.py.) Endpoints, all GET:

    /production/{factory_id}?limit=&cursor=
    /chart/{factory_id}?after=&before=
    /summary?bucket=month&factory_id=&after=&before=&tz=

A dev dependency only (requirements-dev.txt): the service never imports this module. Each
endpoint runs hand-written SQL of the same shape as the queries our selectors run, turns the
rows into dicts and dumps them with orjson; no auth, no cache, no ETags.
"""

import contextlib
import os
import re
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg
import orjson
from fastapi import FastAPI, HTTPException, Query, Request, Response

from benchmarks.fastapi_summary import month_summary

# Times as ours writes them: ISO 8601 in UTC with Z, whole seconds.
JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_OMIT_MICROSECONDS
# Our defaults (sprocket_factory/settings.py): PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, CHART_MAX_POINTS.
PAGE_SIZE_DEFAULT = 1000
PAGE_SIZE_MAX = 10000
CHART_MAX_POINTS = 50000
# wrk's 8 connections may all land on one of the two workers.
POOL_SIZE = int(os.environ.get("FASTAPI_POOL_SIZE", "8"))
UNIX_SECONDS = re.compile(r"-?[0-9]{1,12}")

FACTORY_EXISTS = "SELECT 1 FROM inventory_factory WHERE id = $1"
RECORD_COLUMNS = "id, factory_id, sprocket_production_actual, sprocket_production_goal, time"
# Two statements rather than one with `$2 IS NULL OR time > $2`: a prepared statement's generic
# plan could not start the index scan at the cursor.
FIRST_PAGE = (
    f"SELECT {RECORD_COLUMNS} FROM production_productionrecord "
    "WHERE factory_id = $1 ORDER BY time LIMIT $2"
)
NEXT_PAGE = (
    f"SELECT {RECORD_COLUMNS} FROM production_productionrecord "
    "WHERE factory_id = $1 AND time > $3 ORDER BY time LIMIT $2"
)
FACTORY_NAME = "SELECT id, name FROM inventory_factory WHERE id = $1"
CHART_POINTS = (
    "SELECT sprocket_production_actual, sprocket_production_goal, time "
    "FROM production_productionrecord WHERE factory_id = $1 {window} ORDER BY time LIMIT $2"
)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"], min_size=1, max_size=POOL_SIZE
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


def json_response(data: object, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data, option=JSON_OPTIONS), headers=headers, media_type="application/json"
    )


def parse_time(name: str, text: str | None) -> datetime | None:
    """ISO 8601 date or datetime (no offset means UTC) or unix seconds, to the whole second."""
    if text is None:
        return None
    try:
        if UNIX_SECONDS.fullmatch(text):
            return datetime.fromtimestamp(int(text), UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise HTTPException(400, {name: ["Enter an ISO 8601 date or datetime."]}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


@app.get("/healthz")
async def healthz() -> Response:
    return Response(b"ok", media_type="text/plain")


@app.get("/production/{factory_id}")
async def production_page(
    request: Request,
    factory_id: int,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
    cursor: str | None = None,
) -> Response:
    """One factory's records by time; one more row than asked says whether a next page exists."""
    after = None
    if cursor is not None:
        try:
            after = datetime.fromisoformat(cursor)
        except ValueError:
            raise HTTPException(400, {"cursor": ["Invalid cursor."]}) from None
    async with request.app.state.pool.acquire() as connection:
        if await connection.fetchval(FACTORY_EXISTS, factory_id) is None:
            raise HTTPException(404, "Not found.")
        if after is None:
            rows = await connection.fetch(FIRST_PAGE, factory_id, limit + 1)
        else:
            rows = await connection.fetch(NEXT_PAGE, factory_id, limit + 1, after)
    headers = None
    if len(rows) > limit:
        rows = rows[:limit]
        # Microseconds kept: the next page starts strictly after this exact time.
        next_url = request.url.include_query_params(cursor=rows[-1]["time"].isoformat())
        headers = {"Link": f'<{next_url}>; rel="next"'}
    return json_response([dict(row) for row in rows], headers)


@app.get("/chart/{factory_id}")
async def chart(
    request: Request, factory_id: int, after: str | None = None, before: str | None = None
) -> Response:
    """One factory's chart-data document: its points as three parallel arrays, unix seconds."""
    window, arguments = "", [factory_id, CHART_MAX_POINTS + 1]
    for name, operator, text in (("after", ">=", after), ("before", "<", before)):
        moment = parse_time(name, text)
        if moment is not None:
            arguments.append(moment)
            window += f" AND time {operator} ${len(arguments)}"
    async with request.app.state.pool.acquire() as connection:
        factory = await connection.fetchrow(FACTORY_NAME, factory_id)
        if factory is None:
            raise HTTPException(404, "Not found.")
        points = await connection.fetch(CHART_POINTS.format(window=window), *arguments)
    if len(points) > CHART_MAX_POINTS:
        raise HTTPException(400, f"More than CHART_MAX_POINTS ({CHART_MAX_POINTS}) points match.")
    chart_data = {
        "sprocket_production_actual": [point[0] for point in points],
        "sprocket_production_goal": [point[1] for point in points],
        "time": [int(point[2].timestamp()) for point in points],
    }
    return json_response(
        {"factory": {"id": factory["id"], "name": factory["name"], "chart_data": chart_data}}
    )


@app.get("/summary")
async def summary(
    request: Request,
    bucket: str = "month",
    factory_id: Annotated[list[int] | None, Query()] = None,
    after: str | None = None,
    before: str | None = None,
    tz: str | None = None,
) -> Response:
    """Actual and goal per factory per month (the only bucket here), then overall rows."""
    if bucket != "month":
        raise HTTPException(400, {"bucket": ["Only month is implemented here."]})
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise HTTPException(400, {"tz": [f"{tz} is not a time zone."]}) from None
    async with request.app.state.pool.acquire() as connection:
        rows = await month_summary(
            connection,
            factory_ids=factory_id,
            after=parse_time("after", after),
            before=parse_time("before", before),
            tz=tz,
        )
    return json_response(rows, {"Bucket": bucket})
