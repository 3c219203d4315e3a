// critdesk's pages: live SLA countdowns, the queue's refresh, the report form's live preview.
// The Content-Security-Policy forbids inline scripts, so behaviour hangs off data-* attributes.
(function () {
  "use strict";

  // Count against the server's clock: the browser's may be minutes off.
  var serverNow = Date.parse(document.body.dataset.serverNow || "");
  var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();

  function now() {
    return Date.now() + skew;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // The same format as critdesk.templating.countdown, which renders the first figure.
  function formatCountdown(ms) {
    var total = Math.floor(Math.abs(ms) / 1000);
    var days = Math.floor(total / 86400);
    var hours = Math.floor((total % 86400) / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = total % 60;
    var text;
    if (days) {
      text = days + "d " + pad(hours) + "h " + pad(minutes) + "m";
    } else if (hours) {
      text = hours + "h " + pad(minutes) + "m " + pad(secs) + "s";
    } else {
      text = minutes + "m " + pad(secs) + "s";
    }
    return ms < 0 ? "overdue " + text : text;
  }

  function tick() {
    var t = now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      if (el.dataset.stopped === "true") {
        return;
      }
      var due = Date.parse(el.dataset.due);
      var warn = Date.parse(el.dataset.warn);
      var phase = t >= due ? "breached" : t >= warn ? "warn" : "ok";
      el.textContent = formatCountdown(due - t);
      el.classList.remove("sla-ok", "sla-warn", "sla-breached");
      el.classList.add("sla-" + phase);
    });
  }

  tick();
  setInterval(tick, 1000);

  // A fragment fetched without asking for HTML: a lapsed session answers 401, not the login
  // page (which would otherwise land inside the table).
  function fetchFragment(url, options) {
    return fetch(url, Object.assign({ credentials: "same-origin" }, options || {})).then(
      function (response) {
        if (response.status === 401) {
          window.location.reload();
        }
        if (!response.ok || response.redirected) {
          throw new Error("fragment " + url + ": " + response.status);
        }
        return response.text();
      }
    );
  }

  // The queue: its rows again every 30 s, unless someone is reading a score explanation.
  var rows = document.getElementById("queue-rows");
  if (rows && rows.dataset.refreshUrl) {
    setInterval(function () {
      if (document.hidden || rows.querySelector("details[open]")) {
        return;
      }
      fetchFragment(rows.dataset.refreshUrl)
        .then(function (html) {
          rows.innerHTML = html;
          tick();
        })
        .catch(function () {});
    }, 30000);
  }

  // The report form: what the desk would decide, while the customer answers.
  var form = document.getElementById("report-form");
  var panel = document.getElementById("preview");
  if (form && panel && form.dataset.previewUrl) {
    var timer = null;
    var sequence = 0;
    var refresh = function () {
      var mine = ++sequence;
      fetchFragment(form.dataset.previewUrl, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
      })
        .then(function (html) {
          if (mine === sequence) {
            panel.innerHTML = html;
          }
        })
        .catch(function () {});
    };
    form.addEventListener("change", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    });
    // Keeps "in 30 min" true while the customer writes the description.
    setInterval(refresh, 60000);
  }

  // Forms that change something ask first when they say so, and submit once.
  document.querySelectorAll("form[method=post]").forEach(function (f) {
    f.addEventListener("submit", function (event) {
      if (f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
        event.preventDefault();
        return;
      }
      setTimeout(function () {
        f.querySelectorAll("button[type=submit]").forEach(function (b) {
          b.disabled = true;
        });
      }, 0);
    });
  });

  // Back to a page from the browser's cache: its buttons work again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[disabled]").forEach(function (b) {
      b.disabled = false;
    });
  });

  // Filters apply as soon as they change.
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });
})();
