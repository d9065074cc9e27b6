"use strict";
// Actual against goal per factory, from GET /sprocketFactory/v1/production/summary.
// Used by the dashboard (/dashboard/) and by the admin's factory page (one factory).
(function () {
  const SUMMARY_URL = "/sprocketFactory/v1/production/summary";
  const WORST_PER_FACTORY = 3;
  const WORST_LISTED = 10;
  const COLORS = { actual: "#1f6feb", goal: "#8b949e", worst: "#c62828" };

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => node.setAttribute(name, value));
    (children || []).forEach((child) =>
      node.append(child instanceof Node ? child : document.createTextNode(String(child)))
    );
    return node;
  }

  function percent(attainment) {
    return attainment === null ? "–" : (attainment * 100).toFixed(1) + "%";
  }

  function level(attainment) {
    if (attainment === null) return "";
    if (attainment >= 1) return "ok";
    return attainment >= 0.9 ? "near" : "low";
  }

  function shortLabel(bucket) {
    // "2021-01-21T02:00:00+00:00" → "2021-01-21 02:00"
    return bucket.slice(0, 16).replace("T", " ");
  }

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
    return body;
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

  function worstBuckets(buckets) {
    return buckets
      .filter((row) => row.attainment !== null && row.attainment < 1)
      .sort((a, b) => a.attainment - b.attainment)
      .slice(0, WORST_PER_FACTORY);
  }

  function drawChart(canvas, buckets) {
    const worst = new Set(worstBuckets(buckets).map((row) => row.bucket));
    const pointColors = buckets.map((row) => (worst.has(row.bucket) ? COLORS.worst : COLORS.actual));
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: buckets.map((row) => shortLabel(row.bucket)),
        datasets: [
          {
            label: "Actual",
            data: buckets.map((row) => row.sprocket_production_actual),
            borderColor: COLORS.actual,
            pointBackgroundColor: pointColors,
            pointBorderColor: pointColors,
            pointRadius: buckets.map((row) => (worst.has(row.bucket) ? 5 : 2)),
            tension: 0.2,
          },
          {
            label: "Goal",
            data: buckets.map((row) => row.sprocket_production_goal),
            borderColor: COLORS.goal,
            pointBackgroundColor: COLORS.goal,
            borderDash: [6, 4],
            // A line needs two points; a single bucket is drawn as a dot.
            pointRadius: buckets.length === 1 ? 4 : 0,
          },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { x: { ticks: { maxRotation: 0, autoSkip: true } }, y: { beginAtZero: true } },
      },
    });
  }

  function factoryChart(factoryId, name, entry) {
    const canvas = element("canvas", { "data-factory-id": factoryId, "aria-label": name + " actual and goal" });
    const figure = element("article", { class: "chart" }, [
      element("h2", {}, [name + " · " + percent(entry.overall ? entry.overall.attainment : null)]),
      element("div", { class: "canvas" }, [canvas]),
    ]);
    return { figure, canvas };
  }

  const charts = [];

  function render(rows, names, targets) {
    charts.splice(0).forEach((chart) => chart.destroy());
    targets.charts.replaceChildren();
    if (targets.cards) targets.cards.replaceChildren();
    const worstRows = [];
    byFactory(rows).forEach((entry, factoryId) => {
      const name = names.get(factoryId) || "Factory " + factoryId;
      if (targets.cards) {
        const attainment = entry.overall ? entry.overall.attainment : null;
        targets.cards.append(
          element("div", { class: "card " + level(attainment), "data-factory-id": factoryId }, [
            element("div", { class: "name" }, [name]),
            element("div", { class: "value attainment" }, [percent(attainment)]),
          ])
        );
      }
      const { figure, canvas } = factoryChart(factoryId, name, entry);
      targets.charts.append(figure);
      charts.push(drawChart(canvas, entry.buckets));
      worstBuckets(entry.buckets).forEach((row) => worstRows.push({ name, row }));
    });
    if (targets.worst) {
      const body = targets.worst.querySelector("tbody");
      if (!worstRows.length) {
        body.replaceChildren(
          element("tr", {}, [element("td", { colspan: 5 }, ["No bucket below its goal."])])
        );
        return;
      }
      body.replaceChildren(
        ...worstRows
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
  }

  function queryFromForm(form) {
    const params = new URLSearchParams();
    new FormData(form).forEach((value, name) => {
      if (value) params.append(name, value);
    });
    return params;
  }

  function formFromQuery(form, params) {
    if (!params.toString()) return;
    Array.from(form.elements.factory_id.options).forEach((option) => {
      option.selected = params.getAll("factory_id").includes(option.value);
    });
    ["after", "before", "bucket"].forEach((name) => {
      if (params.has(name)) form.elements[name].value = params.get(name);
    });
  }

  async function showDashboard(form, status, targets, names) {
    const params = queryFromForm(form);
    status.textContent = "Loading…";
    try {
      const rows = await fetchSummary(params);
      render(rows, names, targets);
      const anyBucket = rows.some((row) => row.bucket !== null);
      status.textContent = anyBucket ? "" : "No production in this window.";
      document.body.dataset.loaded = "true";
    } catch (error) {
      status.textContent = "Could not load the summary: " + error.message;
    }
  }

  function startDashboard() {
    const form = document.getElementById("dashboard-controls");
    const status = document.getElementById("dashboard-status");
    const factories = JSON.parse(document.getElementById("dashboard-factories").textContent);
    const names = new Map(factories.map((factory) => [factory.id, factory.name]));
    const targets = {
      charts: document.getElementById("dashboard-charts"),
      cards: document.getElementById("dashboard-attainment"),
      worst: document.getElementById("dashboard-worst"),
    };
    formFromQuery(form, new URLSearchParams(window.location.search));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      history.replaceState(null, "", "?" + queryFromForm(form).toString());
      showDashboard(form, status, targets, names);
    });
    showDashboard(form, status, targets, names);
  }

  async function startFactoryPanel(panel) {
    const factoryId = Number(panel.dataset.factoryId);
    const params = new URLSearchParams({ factory_id: factoryId, bucket: panel.dataset.bucket || "day" });
    const status = panel.querySelector(".status");
    try {
      const rows = await fetchSummary(params);
      render(rows, new Map([[factoryId, panel.dataset.factoryName]]), {
        charts: panel.querySelector(".charts"),
      });
      status.textContent = rows.some((row) => row.bucket !== null) ? "" : "No production yet.";
      document.body.dataset.loaded = "true";
    } catch (error) {
      status.textContent = "Could not load the summary: " + error.message;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (document.getElementById("dashboard-controls")) startDashboard();
    document.querySelectorAll("[data-factory-panel]").forEach(startFactoryPanel);
  });
})();
