"use strict";
// One factory on the page: its tile (today's attainment and running totals) and its chart of
// actual against goal per bucket. Drawn once, then updated in place as data arrives.
(function (Sprocket) {
  const COLORS = {
    actual: "#1f6feb",
    goal: "#57606a",
    worst: "#c62828",
    shortfall: "rgba(198,40,40,.18)",
  };
  const WORST_PER_FACTORY = 3;
  // Past this many points a dot on each would hide the line; the worst keep theirs.
  const DOTTED_POINTS = 120;
  const GOAL_DATASET = 1;

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => node.setAttribute(name, value));
    (children || []).forEach((child) =>
      node.append(child instanceof Node ? child : document.createTextNode(String(child)))
    );
    return node;
  }

  function percent(attainment) {
    if (attainment === null || attainment === undefined) return "–";
    return (attainment * 100).toFixed(1) + "%";
  }

  function level(attainment) {
    if (attainment === null || attainment === undefined) return "";
    if (attainment >= 1) return "ok";
    return attainment >= 0.9 ? "near" : "low";
  }

  const BUCKETS = new Set(["minute", "hour", "day", "week", "month"]);

  function bucketName(bucket) {
    return BUCKETS.has(bucket) ? bucket : "bucket";
  }

  // A label as the factory's wall clock reads it: "2021-01-21T02:06:58+00:00" → "02:06".
  function tickLabel(label, bucket, sameDay) {
    const date = label.slice(0, 10);
    const time = label.slice(11, 16);
    if (bucket === "month") return label.slice(0, 7);
    if (bucket === "day" || bucket === "week") return date;
    return sameDay ? time : date.slice(5) + " " + time;
  }

  function tickLabels(buckets, bucket) {
    const days = new Set(buckets.map((row) => row.bucket.slice(0, 10)));
    return buckets.map((row) => tickLabel(row.bucket, bucket, days.size === 1));
  }

  function shortLabel(label) {
    return label.slice(0, 16).replace("T", " ");
  }

  function worstBuckets(buckets) {
    return buckets
      .filter((row) => row.attainment !== null && row.attainment < 1)
      .sort((a, b) => a.attainment - b.attainment)
      .slice(0, WORST_PER_FACTORY);
  }

  function axisTitle(bucket, zone, buckets) {
    const name = bucketName(bucket);
    const title = name.charAt(0).toUpperCase() + name.slice(1);
    const day = new Set(buckets.map((row) => row.bucket.slice(0, 10)));
    const oneDay = day.size === 1 && (bucket === "minute" || bucket === "hour");
    const when = oneDay ? [...day][0] + ", " : "";
    return title + " (" + when + zone + ")" + (bucket === "week" ? ", weeks from Monday" : "");
  }

  function productionData(buckets, bucket) {
    const worst = new Set(worstBuckets(buckets).map((row) => row.bucket));
    const dotted = buckets.length <= DOTTED_POINTS;
    const colors = buckets.map((row) => (worst.has(row.bucket) ? COLORS.worst : COLORS.actual));
    const values = buckets.flatMap((row) => [
      row.sprocket_production_actual,
      row.sprocket_production_goal,
    ]);
    const lowest = Math.min(...values);
    const highest = Math.max(...values);
    return {
      // The axis fits the data (a few percent short must show) but never dips below zero.
      yMin: lowest - (highest - lowest) * 0.05 < 0 ? 0 : undefined,
      labels: tickLabels(buckets, bucket),
      actual: buckets.map((row) => row.sprocket_production_actual),
      goal: buckets.map((row) => row.sprocket_production_goal),
      colors,
      radii: buckets.map((row) => (worst.has(row.bucket) ? 5 : dotted ? 2.5 : 0)),
    };
  }

  function productionChart(canvas, buckets, bucket, zone) {
    const data = productionData(buckets, bucket);
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          {
            label: "Actual",
            data: data.actual,
            borderColor: COLORS.actual,
            backgroundColor: COLORS.actual,
            borderWidth: 2,
            pointBackgroundColor: data.colors,
            pointBorderColor: data.colors,
            pointRadius: data.radii,
            // The shortfall: shaded where actual runs under the goal, nothing where above.
            fill: { target: GOAL_DATASET, below: COLORS.shortfall, above: "transparent" },
            order: 0,
          },
          {
            label: "Goal",
            data: data.goal,
            borderColor: COLORS.goal,
            backgroundColor: COLORS.goal,
            borderWidth: 1.5,
            borderDash: [6, 4],
            stepped: true,
            // A line needs two points; a single bucket is drawn as a dot.
            pointRadius: buckets.length === 1 ? 4 : 0,
            pointStyle: "line",
            fill: false,
            order: 1,
          },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        layout: { padding: { right: 8 } },
        plugins: { legend: { labels: { boxHeight: 2 } } },
        scales: {
          x: {
            title: { display: true, text: axisTitle(bucket, zone, buckets) },
            ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 16 },
          },
          y: {
            grace: "5%",
            min: data.yMin,
            ticks: { precision: 0 },
            title: { display: true, text: "Sprockets" },
          },
        },
      },
    });
  }

  function productionChartUpdate(chart, buckets, bucket, zone) {
    const data = productionData(buckets, bucket);
    const [actual, goal] = chart.data.datasets;
    chart.data.labels = data.labels;
    actual.data = data.actual;
    actual.pointBackgroundColor = data.colors;
    actual.pointBorderColor = data.colors;
    actual.pointRadius = data.radii;
    goal.data = data.goal;
    goal.pointRadius = buckets.length === 1 ? 4 : 0;
    chart.options.scales.x.title.text = axisTitle(bucket, zone, buckets);
    chart.options.scales.y.min = data.yMin;
    chart.update("none");
  }

  function runningTotals(buckets) {
    let actual = 0;
    let goal = 0;
    return buckets.map((row) => {
      actual += row.sprocket_production_actual;
      goal += row.sprocket_production_goal;
      return { label: row.bucket, actual, goal };
    });
  }

  function todayChartConfig(totals) {
    return {
      type: "line",
      data: {
        labels: totals.map((point) => shortLabel(point.label)),
        datasets: [
          {
            label: "Actual so far",
            data: totals.map((point) => point.actual),
            borderColor: COLORS.actual,
            borderWidth: 2,
            pointRadius: 0,
          },
          {
            label: "Goal so far",
            data: totals.map((point) => point.goal),
            borderColor: COLORS.goal,
            borderWidth: 1.5,
            borderDash: [4, 3],
            pointRadius: 0,
          },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: false } },
        scales: { x: { display: false }, y: { display: false, beginAtZero: true } },
      },
    };
  }

  class FactoryPanel {
    constructor(factory) {
      this.id = factory.id;
      this.name = factory.name + (factory.is_active === false ? " (archived)" : "");
      this.zone = factory.timezone || "UTC";
      this.buckets = [];
      this.bucket = null;
      this.today = null;
      this.chart = null;
      this.todayChart = null;
      this.figure = element("article", { class: "chart", "data-factory-id": this.id });
      this.tile = element("div", { class: "card", "data-factory-id": this.id });
      this.alerts = new Map();
      this.forecast = null;
    }

    // Open alerts by id ({id, rule_name}); an open alert marks the tile and the chart.
    setAlerts(alerts) {
      this.alerts = new Map(alerts.map((alert) => [alert.id, alert]));
      this.drawTile();
    }

    alertChanged(alert) {
      if (alert.state === "open") this.alerts.set(alert.id, alert);
      else this.alerts.delete(alert.id);
      this.drawTile();
    }

    setForecast(forecast) {
      this.forecast = forecast;
      this.drawTile();
    }


    setBuckets(buckets, bucket) {
      this.buckets = buckets;
      this.bucket = bucket;
      this.drawChart();
      this.drawTile();
    }

    setToday(today) {
      this.today = today;
      this.drawTile();
    }

    attainment() {
      return Sprocket.summary.totals(this.buckets).attainment;
    }

    drawChart() {
      const parts = [this.name];
      if (this.buckets.length) {
        parts.push(percent(this.attainment()), "per " + bucketName(this.bucket));
      }
      const title = element("h2", {}, [parts.join(" · ")]);
      if (!this.buckets.length) {
        this.destroyChart();
        const message = element("p", { class: "empty" }, ["No production in this window"]);
        this.figure.replaceChildren(title, message);
        return;
      }
      if (this.chart) {
        this.figure.firstChild.replaceWith(title);
        productionChartUpdate(this.chart, this.buckets, this.bucket, this.zone);
        return;
      }
      const canvas = element("canvas", {
        "data-factory-id": this.id,
        "data-chart": "production",
        "aria-label": this.name + ": actual and goal per " + bucketName(this.bucket),
      });
      this.figure.replaceChildren(title, element("div", { class: "canvas" }, [canvas]));
      this.chart = productionChart(canvas, this.buckets, this.bucket, this.zone);
    }

    // Today's attainment in the factory's zone, its running totals, and the window's.
    drawTile() {
      const today = this.today && this.today.buckets.length ? this.today.buckets : null;
      const attainment = today ? Sprocket.summary.totals(today).attainment : null;
      if (this.todayChart) this.todayChart.destroy();
      this.todayChart = null;
      let spark;
      if (today) {
        const canvas = element("canvas", {
          "data-factory-id": this.id,
          "data-chart": "today",
          "aria-label": this.name + ": actual and goal so far today",
        });
        const title = "Running totals today: actual (solid), goal (dashed)";
        spark = element("div", { class: "spark", title }, [canvas]);
      } else {
        spark = element("div", { class: "spark-empty" }, [this.today ? "No production yet today" : "…"]);
      }
      this.tile.replaceChildren(
        ...[Sprocket.tiles.alertBadge(this), element("div", { class: "name" }, [this.name])].filter(Boolean),
        element("div", { class: "headline" }, [
          element("span", { class: "value attainment today " + level(attainment) }, [percent(attainment)]),
          element("span", { class: "caption" }, ["today (" + this.zone + ")"]),
        ]),
        spark,
        ...[Sprocket.tiles.forecastLine(this.forecast)].filter(Boolean),
        element("div", { class: "window" }, [
          "Window: ",
          element("span", { class: "window-attainment" }, [percent(this.attainment())]),
        ])
      );
      if (today) this.todayChart = new Chart(spark.firstChild, todayChartConfig(runningTotals(today)));
    }

    destroyChart() {
      if (this.chart) this.chart.destroy();
      this.chart = null;
    }

    destroy() {
      this.destroyChart();
      if (this.todayChart) this.todayChart.destroy();
      this.figure.remove();
      this.tile.remove();
    }
  }

  Sprocket.charts = { element, percent, shortLabel, worstBuckets, FactoryPanel };
})((window.Sprocket = window.Sprocket || {}));
