// critdesk's pages: live SLA countdowns, the queue's refresh, the report form's live preview,
// the case workspace's forms (fields per kind, file checks, cloud access expiry) and the bug
// form's live duplicate suggestions.
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
    // Cloud access: time left until it expires by itself.
    document.querySelectorAll("[data-expires]").forEach(function (el) {
      var left = Date.parse(el.dataset.expires) - t;
      el.textContent = left > 0 ? "expires in " + formatCountdown(left) : "expired";
      el.classList.toggle("sla-warn", left > 0 && left < 5 * 60000);
      el.classList.toggle("sla-breached", left <= 0);
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

  // Fields that belong to one choice (an info request's kind, a redirect's target, a bug's new
  // state) show only with it; hidden ones are disabled, so they are neither checked nor sent.
  document.querySelectorAll("select[data-reveal]").forEach(function (select) {
    var scope = select.form || document;
    var apply = function () {
      scope.querySelectorAll("[data-reveal-when]").forEach(function (el) {
        var shown = el.dataset.revealWhen.split(" ").indexOf(select.value) !== -1;
        el.hidden = !shown;
        el.querySelectorAll("input, select, textarea").forEach(function (input) {
          input.disabled = !shown;
        });
        if (el.matches("input, select, textarea")) {
          el.disabled = !shown;
        }
      });
    };
    select.addEventListener("change", apply);
    apply();
  });

  // Uploads: a file over the limit (or empty) is refused before minutes of sending it.
  function describeSize(bytes) {
    var units = ["bytes", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) {
      bytes /= 1024;
      i += 1;
    }
    return (i ? bytes.toFixed(1) : bytes) + " " + units[i];
  }

  document.querySelectorAll("form[data-max-bytes]").forEach(function (f) {
    var input = f.querySelector("[data-file-input]");
    var message = f.querySelector("[data-file-error]");
    if (!input || !message) {
      return;
    }
    var check = function () {
      var file = input.files && input.files[0];
      var limit = Number(f.dataset.maxBytes);
      var problem = "";
      if (file && file.size === 0) {
        problem = file.name + " is empty.";
      } else if (file && limit && file.size > limit) {
        problem =
          file.name + " is " + describeSize(file.size) + ": over the " + describeSize(limit) + " limit.";
      }
      message.textContent = problem;
      message.hidden = !problem;
      return !problem;
    };
    input.addEventListener("change", check);
    f.addEventListener("submit", function (event) {
      if (!check()) {
        event.preventDefault();
      }
    });
  });

  // Forms that change something ask first when they say so, and submit once.
  document.querySelectorAll("form[method=post]").forEach(function (f) {
    f.addEventListener("submit", function (event) {
      if (event.defaultPrevented) {
        return;
      }
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

  // The bug form: known bugs like the one being written, while it is written. The search is
  // the API's; if it answers anything but 200, the panel stays away (it is a help, not a step).
  var similar = document.getElementById("similar");
  var bugForm = document.getElementById("bug-form");
  if (similar && bugForm && similar.dataset.similarUrl) {
    var list = similar.querySelector("[data-similar-list]");
    var sources = bugForm.querySelectorAll("[data-similar-source]");
    var token = bugForm.querySelector("input[name=csrf_token]");
    var stateNames = { in_progress: "In progress", wont_fix: "Won't fix" };
    var searchTimer = null;
    var searchSequence = 0;
    var lastText = null;

    var element = function (tag, className, text) {
      var el = document.createElement(tag);
      if (className) {
        el.className = className;
      }
      if (text !== undefined && text !== null) {
        el.textContent = text;
      }
      return el;
    };

    var stateName = function (state) {
      return stateNames[state] || state.charAt(0).toUpperCase() + state.slice(1).replace(/_/g, " ");
    };

    var linkForm = function (key) {
      var form = element("form", "similar-link");
      form.method = "post";
      form.action = similar.dataset.linkUrl;
      [["csrf_token", token ? token.value : ""], ["bug", key]].forEach(function (pair) {
        var input = element("input");
        input.type = "hidden";
        input.name = pair[0];
        input.value = pair[1];
        form.appendChild(input);
      });
      var button = element("button", "button button-small button-primary", "Link this case instead");
      button.type = "submit";
      form.appendChild(button);
      return form;
    };

    var showHits = function (items) {
      list.textContent = "";
      if (!items.length) {
        list.appendChild(element("li", "similar-none", "Nothing similar found so far."));
      }
      items.forEach(function (hit) {
        var li = element("li", "similar-item");
        li.dataset.key = hit.key;
        var head = element("div", "similar-head");
        var link = element("a", "ref", hit.key);
        link.href = hit.kind === "bug" ? "/bugs/" + encodeURIComponent(hit.key) : hit.url;
        link.target = "_blank";
        link.rel = "noopener";
        head.appendChild(link);
        if (hit.state) {
          head.appendChild(element("span", "chip bug-state bug-state-" + hit.state, stateName(hit.state)));
        }
        if (hit.fix_version) {
          head.appendChild(element("span", "chip chip-fix", "Fixed in " + hit.fix_version));
        }
        li.appendChild(head);
        li.appendChild(element("p", "similar-title", hit.title));
        if (hit.workaround) {
          var text = hit.workaround.length > 220 ? hit.workaround.slice(0, 220) + "…" : hit.workaround;
          li.appendChild(element("p", "similar-workaround", "Workaround: " + text));
        }
        if (hit.kind === "bug" && similar.dataset.linkUrl) {
          li.appendChild(linkForm(hit.key));
        }
        list.appendChild(li);
      });
      similar.hidden = false;
    };

    var hide = function () {
      similar.hidden = true;
      list.textContent = "";
    };

    var search = function () {
      var text = Array.prototype.map
        .call(sources, function (el) {
          return el.value.trim();
        })
        .join("\n")
        .slice(0, 1500);
      if (text === lastText) {
        return;
      }
      lastText = text;
      if (text.replace(/\s/g, "").length < 8) {
        hide();
        return;
      }
      var mine = ++searchSequence;
      var url = similar.dataset.similarUrl + "?limit=5&text=" + encodeURIComponent(text);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status !== 200) {
            throw new Error("similar: " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          if (mine === searchSequence) {
            showHits(data.items || []);
          }
        })
        .catch(function () {
          if (mine === searchSequence) {
            hide();
          }
        });
    };

    sources.forEach(function (el) {
      el.addEventListener("input", function () {
        clearTimeout(searchTimer);
        searchTimer = setTimeout(search, 350);
      });
    });
    // A report pre-filled from a case is searched at once.
    search();
  }
})();
