"use strict";
// Actual against goal per factory, from GET /sprocketFactory/v1/production/summary, kept
// current by the live stream. Used by the dashboard (/dashboard/) and by the admin's factory
// page (one factory, [data-factory-panel]).
(function (Sprocket) {
  const { fetchSummary, byFactory, affectedRange, mergeBuckets, isoSeconds, startOfToday } = Sprocket.summary;
  const { element, percent, shortLabel, worstBuckets, FactoryPanel } = Sprocket.charts;
  const WORST_LISTED = 10;
  const DEBOUNCE = 250;
  // Without `ready` by then the page loads anyway; a later `ready` loads again.
  const FIRST_LOAD_WAIT = 1000;
  const DAY_CHECK_EVERY = 60 * 1000;
  const ALERTS_URL = "/sprocketFactory/v1/alerts?state=open&limit=1000";

  function dateBound(value) {
    return value ? Date.parse(value) : null;
  }

  // A set of factories charted over one window, refreshed whole or one factory at a time.
  // Every fetch runs in turn, so a slow answer never overwrites a newer one.
  class Board {
    constructor({ factories, query, targets, status, liveStatus }) {
      this.query = query;
      this.targets = targets;
      this.status = status;
      this.bounds = { after: dateBound(query.get("after")), before: dateBound(query.get("before")) };
      this.bucket = query.get("bucket") || "auto";
      this.panels = new Map(factories.map((factory) => [factory.id, new FactoryPanel(factory)]));
      this.panels.forEach((panel) => {
        if (targets.cards) targets.cards.append(panel.tile);
        targets.charts.append(panel.figure);
      });
      this.queue = Promise.resolve();
      this.closed = false;
      this.loadStarted = false;
      this.pending = new Map();
      this.dayStarts = new Map();
      // The first load waits for the stream to be ready, so that no write between the two goes
      // unseen; each later `ready` (after a drop or an outage) loads again: events were missed.
      const ids = [...this.panels.keys()];
      this.live = Sprocket.live.subscribe(
        ids,
        {
          ready: () => this.load(),
          down: () => this.loadStarted || this.load(),
          poll: () => this.load(),
          reset: () => this.load(),
          production: (event) => this.schedule(event),
          alert: (event) => this.panels.get(event.factory_id)?.alertChanged(event),
        },
        liveStatus
      );
      this.firstLoad = setTimeout(() => this.loadStarted || this.load(), FIRST_LOAD_WAIT);
      this.dayCheck = setInterval(() => this.refreshTilesAtMidnight(), DAY_CHECK_EVERY);
    }

    run(task) {
      this.queue = this.queue.then(() => this.closed || task()).catch((error) => {
        this.status.textContent = "Could not load the summary: " + error.message;
      });
      return this.queue;
    }

    load() {
      this.loadStarted = true;
      clearTimeout(this.firstLoad);
      return this.run(async () => {
        const { rows, bucket } = await fetchSummary(this.query);
        this.bucket = bucket;
        const entries = byFactory(rows);
        this.panels.forEach((panel, id) => panel.setBuckets(entries.get(id)?.buckets || [], bucket));
        await Promise.all([...this.panels.values()].map((panel) => this.loadToday(panel)));
        await this.loadAlerts();
        this.afterDraw();
      });
    }

    async loadToday(panel) {
      const start = startOfToday(panel.zone, new Date());
      this.dayStarts.set(panel.id, start);
      const params = new URLSearchParams({ factory_id: panel.id, bucket: "auto", after: isoSeconds(start) });
      const { rows } = await fetchSummary(params);
      panel.setToday({ start, buckets: byFactory(rows).get(panel.id)?.buckets || [] });
      await this.loadForecast(panel);
    }

    // Where today will end; refreshed every minute too (it moves with the clock). A failed
    // forecast leaves the tile's numbers as they are.
    async loadForecast(panel) {
      const params = new URLSearchParams({
        factory_id: panel.id,
        bucket: "day",
        after: isoSeconds(this.dayStarts.get(panel.id)),
        forecast: "true",
      });
      try {
        const { rows } = await fetchSummary(params);
        const current = rows.find((row) => row.bucket !== null && row.forecast);
        panel.setForecast(current ? current.forecast : null);
      } catch (error) {
        console.warn("No forecast for factory " + panel.id, error);
      }
    }

    // The open alerts of the factories shown (GET /alerts); later changes come as events.
    async loadAlerts() {
      const response = await fetch(ALERTS_URL, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return; // alerts are optional on the page (e.g. a role without them)
      const open = await response.json();
      this.panels.forEach((panel, id) => panel.setAlerts(open.filter((alert) => alert.factory_id === id)));
    }

    refreshTilesAtMidnight() {
      const turned = [...this.panels.values()].filter(
        (panel) => this.dayStarts.get(panel.id) !== startOfToday(panel.zone, new Date())
      );
      if (turned.length) this.run(() => Promise.all(turned.map((panel) => this.loadToday(panel))));
      const others = [...this.panels.values()].filter((panel) => !turned.includes(panel));
      this.run(() => Promise.all(others.map((panel) => this.loadForecast(panel))));
    }

    // Events for one factory within DEBOUNCE ms are refetched as one range.
    schedule(event) {
      if (!this.panels.has(event.factory_id)) return;
      const first = Date.parse(event.first);
      const last = Date.parse(event.last);
      const pending = this.pending.get(event.factory_id);
      if (pending) {
        pending.first = Math.min(pending.first, first);
        pending.last = Math.max(pending.last, last);
        return;
      }
      this.pending.set(event.factory_id, { first, last });
      setTimeout(() => {
        const range = this.pending.get(event.factory_id);
        this.pending.delete(event.factory_id);
        this.run(() => this.refreshFactory(this.panels.get(event.factory_id), range));
      }, DEBOUNCE);
    }

    async refreshFactory(panel, { first, last }) {
      const work = [];
      const range = affectedRange(panel.buckets, first, last, this.bounds);
      if (range) {
        const params = new URLSearchParams({ factory_id: panel.id, bucket: this.bucket });
        if (range.after !== null) params.set("after", isoSeconds(range.after));
        if (range.before !== null) params.set("before", isoSeconds(range.before));
        work.push(
          fetchSummary(params).then(({ rows }) => {
            const fresh = byFactory(rows).get(panel.id)?.buckets || [];
            panel.setBuckets(mergeBuckets(panel.buckets, fresh, range), this.bucket);
          })
        );
      }
      const dayStart = this.dayStarts.get(panel.id);
      if (dayStart === undefined || last + 60 * 1000 > dayStart) work.push(this.loadToday(panel));
      await Promise.all(work);
      this.afterDraw();
    }

    afterDraw() {
      this.status.textContent = "";
      if (this.targets.worst) this.drawWorst();
      document.body.dataset.loaded = "true";
    }

    drawWorst() {
      const rows = [];
      this.panels.forEach((panel) =>
        worstBuckets(panel.buckets).forEach((row) => rows.push({ name: panel.name, row }))
      );
      const body = this.targets.worst.querySelector("tbody");
      if (!rows.length) {
        const none = element("td", { colspan: 5 }, ["No bucket below its goal."]);
        body.replaceChildren(element("tr", {}, [none]));
        return;
      }
      body.replaceChildren(
        ...rows
          .sort((a, b) => a.row.attainment - b.row.attainment)
          .slice(0, WORST_LISTED)
          .map(({ name, row }) =>
            element("tr", {}, [
              element("td", {}, [name]),
              element("td", {}, [shortLabel(row.bucket)]),
              element("td", {}, [row.sprocket_production_actual]),
              element("td", {}, [row.sprocket_production_goal]),
              element("td", { class: "low" }, [percent(row.attainment)]),
            ])
          )
      );
    }

    close() {
      this.closed = true;
      this.live.close();
      clearTimeout(this.firstLoad);
      clearInterval(this.dayCheck);
      this.panels.forEach((panel) => panel.destroy());
    }
  }

  function queryFromForm(form) {
    const params = new URLSearchParams();
    new FormData(form).forEach((value, name) => {
      if (value) params.append(name, value);
    });
    return params;
  }

  function formFromQuery(form, params) {
    if (params.has("factory_id")) {
      Array.from(form.elements.factory_id.options).forEach((option) => {
        option.selected = params.getAll("factory_id").includes(option.value);
      });
    }
    ["after", "before", "bucket"].forEach((name) => {
      if (params.has(name)) form.elements[name].value = params.get(name);
    });
  }

  function startDashboard() {
    const form = document.getElementById("dashboard-controls");
    const status = document.getElementById("dashboard-status");
    const factories = JSON.parse(document.getElementById("dashboard-factories").textContent);
    const byId = new Map(factories.map((factory) => [String(factory.id), factory]));
    const targets = {
      charts: document.getElementById("dashboard-charts"),
      cards: document.getElementById("dashboard-attainment"),
      worst: document.getElementById("dashboard-worst"),
    };
    let board = null;

    function show() {
      if (board) board.close();
      board = null;
      const query = queryFromForm(form);
      const shown = query.getAll("factory_id").map((id) => byId.get(id)).filter(Boolean);
      if (!shown.length) {
        targets.worst.querySelector("tbody").replaceChildren();
        status.textContent = "Choose one or more factories.";
        document.body.dataset.loaded = "true";
        return;
      }
      status.textContent = "Loading…";
      const liveStatus = document.getElementById("live-status");
      board = new Board({ factories: shown, query, targets, status, liveStatus });
    }

    formFromQuery(form, new URLSearchParams(window.location.search));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      history.replaceState(null, "", "?" + queryFromForm(form).toString());
      // It named ids of the page's first address, not of the factories now chosen.
      document.getElementById("dashboard-unknown")?.remove();
      show();
    });
    show();
  }

  function startFactoryPanel(panel) {
    const factory = {
      id: Number(panel.dataset.factoryId),
      name: panel.dataset.factoryName,
      timezone: panel.dataset.factoryTimezone,
      is_active: panel.dataset.factoryArchived === undefined,
    };
    const query = new URLSearchParams({ factory_id: factory.id, bucket: panel.dataset.bucket || "auto" });
    new Board({
      factories: [factory],
      query,
      targets: { charts: panel.querySelector(".charts"), cards: panel.querySelector(".cards") },
      status: panel.querySelector(".status"),
      liveStatus: document.getElementById("live-status"),
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (document.getElementById("dashboard-controls")) startDashboard();
    document.querySelectorAll("[data-factory-panel]").forEach(startFactoryPanel);
  });
})((window.Sprocket = window.Sprocket || {}));
