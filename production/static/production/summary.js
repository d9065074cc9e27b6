"use strict";
// Reading GET /sprocketFactory/v1/production/summary, and the time arithmetic the charts need:
// which buckets an event touches, merging refetched buckets in, and a factory's local midnight.
(function (Sprocket) {
  const SUMMARY_URL = "/sprocketFactory/v1/production/summary";
  const MINUTE = 60 * 1000;

  async function fetchSummary(params) {
    const response = await fetch(SUMMARY_URL + "?" + params.toString(), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const body = await response.json();
    if (!response.ok) {
      const message = body.detail || Object.entries(body).map(([k, v]) => k + ": " + v).join("; ");
      throw new Error(message);
    }
    // The server says which bucket `auto` resolved to; an older server has no such header.
    return { rows: body, bucket: response.headers.get("Bucket") || params.get("bucket") };
  }

  function byFactory(rows) {
    const factories = new Map();
    rows.forEach((row) => {
      if (!factories.has(row.factory_id)) factories.set(row.factory_id, { buckets: [], overall: null });
      const entry = factories.get(row.factory_id);
      if (row.bucket === null) entry.overall = row;
      else entry.buckets.push(row);
    });
    return factories;
  }

  function startOf(row) {
    return Date.parse(row.bucket);
  }

  function totals(buckets) {
    const actual = buckets.reduce((sum, row) => sum + row.sprocket_production_actual, 0);
    const goal = buckets.reduce((sum, row) => sum + row.sprocket_production_goal, 0);
    return {
      sprocket_production_actual: actual,
      sprocket_production_goal: goal,
      attainment: goal ? Math.round((actual / goal) * 10000) / 10000 : null,
    };
  }

  // What to refetch after production was written between `firstMs` and `lastMs` (minute
  // times): from the start of the drawn bucket holding the first minute to the start of the
  // first drawn bucket after the last minute, clipped to the window shown. Drawn bucket
  // starts are the server's own boundaries, so no calendar arithmetic happens here. `null`
  // bounds are open; the result is null when the event lies outside the window.
  function affectedRange(buckets, firstMs, lastMs, bounds) {
    const lastEnd = lastMs + MINUTE;
    if (bounds.before !== null && firstMs >= bounds.before) return null;
    if (bounds.after !== null && lastEnd <= bounds.after) return null;
    const starts = buckets.map(startOf);
    const holding = starts.filter((start) => start <= firstMs);
    const following = starts.filter((start) => start >= lastEnd);
    let after = holding.length ? holding[holding.length - 1] : null;
    let before = following.length ? following[0] : null;
    // The first bucket drawn may start before the window does (it is clipped to it).
    if (bounds.after !== null && (after === null || after <= bounds.after)) after = bounds.after;
    if (bounds.before !== null && (before === null || before > bounds.before)) before = bounds.before;
    return { after, before, fromWindowStart: after === bounds.after };
  }

  // The drawn buckets with those of [after, before) replaced by the refetched ones.
  function mergeBuckets(buckets, fresh, range) {
    const replaced = (row) => {
      const start = startOf(row);
      const fromStart = range.fromWindowStart || start >= range.after;
      return fromStart && (range.before === null || start < range.before);
    };
    return buckets
      .filter((row) => !replaced(row))
      .concat(fresh)
      .sort((a, b) => startOf(a) - startOf(b));
  }

  function isoSeconds(ms) {
    return new Date(ms).toISOString().slice(0, 19) + "Z";
  }

  // The zone's wall clock at `date`, minus UTC's: what the zone adds to UTC then.
  function zoneOffset(zone, date) {
    const parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    })
      .formatToParts(date)
      .forEach((part) => (parts[part.type] = Number(part.value)));
    const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
    return wall - Math.floor(date.getTime() / 1000) * 1000;
  }

  // The instant today began in `zone`.
  function startOfToday(zone, now) {
    const wall = new Date(now.getTime() + zoneOffset(zone, now));
    const midnight = Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate());
    // The offset at midnight, not now's: they differ on the day clocks change.
    const guess = midnight - zoneOffset(zone, now);
    return midnight - zoneOffset(zone, new Date(guess));
  }

  Sprocket.summary = {
    fetchSummary,
    byFactory,
    startOf,
    totals,
    affectedRange,
    mergeBuckets,
    isoSeconds,
    startOfToday,
  };
})((window.Sprocket = window.Sprocket || {}));
