"use strict";
// The live stream, GET /sprocketFactory/v1/production/events (Server-Sent Events), and the
// fallback when it is down: refetch every 15 s until the stream says `ready` again.
// The state is shown on #live-status as data-live-state="live|polling|connecting".
(function (Sprocket) {
  const EVENTS_URL = "/sprocketFactory/v1/production/events";
  const POLL_EVERY = 15 * 1000;
  // How long a dropped stream may take to come back before the page polls instead.
  const RECONNECT_GRACE = 15 * 1000;
  const TEXT = {
    live: "● Live",
    polling: "Live updates paused — refreshing every 15 s",
    connecting: "Connecting…",
  };

  // handlers: ready() when the subscription is (again) live, production(event), alert(event)
  // when an alert opens or resolves, reset(),
  // poll() every 15 s while the stream is down, down() when it is found down.
  function subscribe(factoryIds, handlers, statusElement) {
    const params = new URLSearchParams();
    factoryIds.forEach((id) => params.append("factory_id", id));
    const url = EVENTS_URL + (factoryIds.length ? "?" + params.toString() : "");
    let source = null;
    let state = null;
    let pollTimer = null;
    let graceTimer = null;
    let closed = false;

    function show(next) {
      state = next;
      if (statusElement) {
        statusElement.dataset.liveState = next;
        statusElement.textContent = TEXT[next];
      }
    }

    function poll() {
      if (closed) return;
      handlers.poll();
      // A stream refused outright (an error status) is not retried by EventSource itself.
      if (source.readyState === EventSource.CLOSED) open();
    }

    function startPolling() {
      clearTimeout(graceTimer);
      if (state !== "polling") {
        show("polling");
        handlers.down();
      }
      if (!pollTimer) pollTimer = setInterval(poll, POLL_EVERY);
    }

    function stopPolling() {
      clearInterval(pollTimer);
      pollTimer = null;
    }

    function open() {
      if (source) source.close();
      source = new EventSource(url);
      source.addEventListener("ready", () => {
        clearTimeout(graceTimer);
        stopPolling();
        show("live");
        handlers.ready();
      });
      source.addEventListener("production", (message) => {
        try {
          handlers.production(JSON.parse(message.data));
        } catch (error) {
          console.warn("Unreadable production event", message.data, error);
        }
      });
      source.addEventListener("alert", (message) => {
        try {
          if (handlers.alert) handlers.alert(JSON.parse(message.data));
        } catch (error) {
          console.warn("Unreadable alert event", message.data, error);
        }
      });
      source.addEventListener("reset", () => handlers.reset());
      source.addEventListener("unavailable", startPolling);
      source.addEventListener("error", () => {
        if (closed || state === "polling") return;
        if (source.readyState === EventSource.CLOSED) {
          startPolling();
          return;
        }
        show("connecting");
        clearTimeout(graceTimer);
        graceTimer = setTimeout(startPolling, RECONNECT_GRACE);
      });
    }

    show("connecting");
    open();
    return {
      close() {
        closed = true;
        stopPolling();
        clearTimeout(graceTimer);
        source.close();
      },
    };
  }

  Sprocket.live = { subscribe };
})((window.Sprocket = window.Sprocket || {}));
