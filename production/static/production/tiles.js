"use strict";
// What a factory's tile says besides its numbers: its open alerts (GET /alerts, then the
// live stream's alert events) and where today will end (the summary's forecast).
(function (Sprocket) {
  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => node.setAttribute(name, value));
    (children || []).forEach((child) => node.append(child));
    return node;
  }

  // An open alert marks the tile and the chart, and the badge names its rules.
  function alertBadge(panel) {
    const open = [...panel.alerts.values()];
    panel.tile.toggleAttribute("data-alert", open.length > 0);
    panel.figure.toggleAttribute("data-alert", open.length > 0);
    if (!open.length) return null;
    const names = open.map((alert) => alert.rule_name || "rule " + alert.rule_id).join(", ");
    return element("div", { class: "alert-badge", role: "status" }, ["⚠ Alert: " + names]);
  }

  function forecastLine(forecast) {
    if (!forecast) return null;
    const verdict =
      forecast.status === "on_track" ? "on track" : "behind by " + forecast.behind_by.toLocaleString();
    const of = forecast.projected_actual.toLocaleString() + " of " + forecast.day_goal.toLocaleString();
    return element("div", { class: "forecast " + forecast.status, "data-forecast": forecast.status }, [
      "Forecast: " + verdict + " (" + of + ")",
    ]);
  }

  Sprocket.tiles = { alertBadge, forecastLine };
})((window.Sprocket = window.Sprocket || {}));
