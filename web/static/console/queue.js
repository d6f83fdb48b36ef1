/* The queue of handoffs: list, detail (transcript, emotions, summary, order), take, reply,
 * hand back. Polls every 2 s while the queue tab is shown. */
HeardConsole.queue = (function (c) {
  "use strict";

  var POLL_MS = 2000;
  var list = document.getElementById("queue-list");
  var count = document.getElementById("queue-count");
  var empty = document.getElementById("queue-empty");
  var detail = document.getElementById("handoff");
  var handoffs = [];
  var selected = null;    // reference of the handoff shown
  var shown = null;       // {reference, status, agent, lines: element, after: time}
  var timer = null;

  var PRIORITY = { 1: "urgent", 2: "high", 3: "normal" };
  var TITLE = document.title;

  function priorityName(p) { return PRIORITY[p] || "low"; }

  function mine(handoff) {
    return !!handoff.agent && c.me &&
      (handoff.agent === c.me.name || handoff.agent === c.me.username);
  }

  // Most urgent first, then who has waited longest.
  function byUrgency(a, b) {
    return (a.priority - b.priority) || (b.waiting_seconds - a.waiting_seconds);
  }

  function refresh() {
    return c.api("GET", "queue").then(function (answer) {
      if (answer.status !== 200) return;
      handoffs = (answer.body.handoffs || []).slice().sort(byUrgency);
      renderList();
      var current = find(selected);
      if (selected && !current) return gone();
      if (current && shown && (current.status !== shown.status || current.agent !== shown.agent)) {
        renderDetail(current);
      }
      if (current && shown) return pollMessages();
    });
  }

  function find(reference) {
    return handoffs.filter(function (h) { return h.reference === reference; })[0] || null;
  }

  function gone() {
    selected = shown = null;
    detail.replaceChildren(
      c.el("h2", { id: "handoff-title", text: "Select a conversation" }),
      c.el("p", { class: "muted", text: "That conversation is no longer in the queue: Heard has it again." }));
  }

  // Rebuilt on every poll; keyboard focus stays on the same conversation's button.
  function renderList() {
    var focused = document.activeElement && document.activeElement.getAttribute("data-reference");
    count.textContent = "(" + handoffs.length + ")";
    // Agents keep the console in a background tab: the waiting count shows in its title.
    var waiting = handoffs.filter(function (h) { return h.status === "waiting"; }).length;
    document.title = (waiting ? "(" + waiting + ") " : "") + TITLE;
    empty.hidden = handoffs.length > 0;
    list.replaceChildren.apply(list, handoffs.map(function (h) {
      var worst = h.emotion_timeline && h.emotion_timeline.length ?
        h.emotion_timeline[h.emotion_timeline.length - 1] : null;
      var button = c.el("button", { type: "button", class: "queue-item",
                                    "aria-current": String(h.reference === selected),
                                    "data-reference": h.reference }, [
        c.el("span", { class: "priority priority-" + priorityName(h.priority),
                       text: priorityName(h.priority) }),
        c.el("strong", { text: h.reference }),
        c.el("span", { class: "reason", text: c.words(h.reason) }),
        c.el("span", { class: "meta", text: h.channel + " · waiting " + c.minutes(h.waiting_seconds) +
                       (h.agent ? " · with " + h.agent : "") }),
        worst ? chip(worst) : document.createTextNode("")
      ]);
      button.addEventListener("click", function () { select(h.reference); });
      return c.el("li", {}, [button]);
    }));
    var again = focused && list.querySelector('[data-reference="' + CSS.escape(focused) + '"]');
    if (again) again.focus();
  }

  function chip(point) {
    var intensity = point.intensity == null ? "" : " " + Number(point.intensity).toFixed(2);
    var node = c.el("span", { class: "chip", text: point.emotion + intensity });
    node.style.borderColor = c.emotionColour(point.emotion);
    node.style.color = c.emotionColour(point.emotion);
    return node;
  }

  function select(reference) {
    selected = reference;
    renderList();
    var handoff = find(reference);
    if (handoff) renderDetail(handoff);
    var heading = document.getElementById("handoff-title");
    if (heading) heading.focus();
  }

  function renderDetail(h) {
    var lines = c.el("ol", { class: "transcript", "aria-label": "Transcript", tabindex: "0" });
    (h.transcript || []).forEach(function (line) { lines.appendChild(c.transcriptLine(line)); });
    shown = { reference: h.reference, status: h.status, agent: h.agent, lines: lines,
              after: null };
    var title = c.el("h2", { id: "handoff-title", tabindex: "-1",
                             text: h.reference + " · " + c.words(h.reason) });
    var facts = c.el("p", { class: "meta", text: [
      "priority " + priorityName(h.priority), h.channel, "status " + c.words(h.status),
      h.agent ? "agent " + h.agent : null, "waiting " + c.minutes(h.waiting_seconds),
      h.callback_at ? "callback " + c.dateTime(h.callback_at) : null
    ].filter(Boolean).join(" · ") });
    // The conversation and the reply box first; what Heard worked out beside them.
    detail.replaceChildren(title, facts, c.el("div", { class: "detail-columns" }, [
      c.el("div", { class: "detail-main" }, [section("Transcript", lines), actions(h)]),
      c.el("div", { class: "detail-side" }, [
        section("Summary", c.el("p", { class: "summary", text: h.summary || "" })),
        section("Emotion timeline", timeline(h.emotion_timeline || [])),
        section("Order", order(h.order))])]));
    pollMessages();
  }

  function section(title, body) {
    return c.el("section", { class: "detail-part" }, [c.el("h3", { text: title }), body]);
  }

  var ISO_TIME = /^\d{4}-\d\d-\d\dT/;

  function orderValue(key, value) {
    if (key === "items" && Array.isArray(value)) {
      return value.map(function (i) { return i.quantity + " × " + i.product; }).join(", ");
    }
    if (key === "customer" && value) return [value.name, value.email, value.account_type]
      .filter(Boolean).join(" · ");
    if (typeof value === "string" && ISO_TIME.test(value)) return c.dateTime(value);
    return typeof value === "object" ? "" : String(value);
  }

  function order(o) {
    if (!o) return c.el("p", { class: "muted", text: "No order identified." });
    var dl = c.el("dl", { class: "order" });
    Object.keys(o).forEach(function (key) {
      var text = o[key] === null ? "" : orderValue(key, o[key]);
      if (!text) return;
      dl.appendChild(c.el("dt", { text: c.words(key) }));
      dl.appendChild(c.el("dd", { text: text }));
    });
    return dl;
  }

  // Intensity per turn as a line with a dot per turn in the emotion's colour, the
  // conversation's frustration score dashed; the chips after it say the same in words.
  function timeline(points) {
    if (!points.length) return c.el("p", { class: "muted", text: "No turns recorded." });
    var width = 320, height = 90, pad = 10;
    var step = points.length > 1 ? (width - 2 * pad) / (points.length - 1) : 0;
    var x = function (i) { return pad + i * step; };
    var y = function (v) { return height - pad - (v || 0) * (height - 2 * pad); };
    var chart = c.svg("svg", { viewBox: "0 0 " + width + " " + height, class: "timeline",
                               role: "img", "aria-label": "Emotion intensity per turn" });
    chart.appendChild(c.svg("line", { x1: pad, x2: width - pad, y1: y(0.6), y2: y(0.6),
                                      class: "threshold" }));
    var line = function (key) {
      return points.map(function (p, i) { return x(i) + "," + y(p[key]); }).join(" ");
    };
    var scored = points.some(function (p) { return p.frustration != null; });
    if (scored) chart.appendChild(c.svg("polyline", { class: "frustration", points: line("frustration") }));
    chart.appendChild(c.svg("polyline", { class: "intensity", points: line("intensity") }));
    points.forEach(function (p, i) {
      var dot = c.svg("circle", { cx: x(i), cy: y(p.intensity), r: 5,
                                  fill: c.emotionColour(p.emotion) });
      var label = c.svg("title");
      label.textContent = "Turn " + (p.turn || i + 1) + ": " + p.emotion;
      dot.appendChild(label);
      chart.appendChild(dot);
    });
    var key = c.el("p", { class: "timeline-key", text: "Solid: intensity per turn. " +
      (scored ? "Dashed: frustration score. " : "") + "Dotted: high (0.6)." });
    var chips = c.el("ol", { class: "chips" }, points.map(function (p, i) {
      var frustration = p.frustration == null ? "" :
        "frustration " + Number(p.frustration).toFixed(2);
      return c.el("li", {}, [c.el("span", { class: "turn", text: "turn " + (p.turn || i + 1) }),
                             chip(p),
                             c.el("span", { class: "intent", text: c.words(p.intent) }),
                             c.el("span", { class: "score", text: frustration })]);
    }));
    return c.el("div", {}, [chart, key, chips]);
  }

  function actions(h) {
    var box = c.el("div", { class: "actions" });
    var status = c.el("p", { class: "action-status", role: "status" });
    if (mine(h)) {
      var text = c.el("textarea", { id: "reply-text", rows: "3", maxlength: "2000" });
      var form = c.el("form", { class: "reply" }, [
        c.el("label", { for: "reply-text", text: "Reply to the customer" }), text,
        c.el("button", { type: "submit", text: "Send reply" })]);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var message = text.value.trim();
        if (!message) return;
        c.api("POST", "handoffs/" + encodeURIComponent(h.reference) + "/reply", { text: message })
          .then(function (answer) {
            if (answer.status === 200) { text.value = ""; pollMessages(); }
            else status.textContent = answer.body.error || "The reply was not sent.";
          });
      });
      text.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
      });
      var release = c.el("button", { type: "button", class: "secondary", text: "Hand back to Heard" });
      release.addEventListener("click", function () {
        c.api("POST", "handoffs/" + encodeURIComponent(h.reference) + "/release").then(function (answer) {
          status.textContent = answer.status === 200 ? "Handed back to Heard." :
            (answer.body.error || "Could not hand back.");
          refresh();
        });
      });
      box.append(form, release);
    } else if (!h.agent) {
      var take = c.el("button", { type: "button", text: "Take" });
      take.addEventListener("click", function () {
        c.api("POST", "handoffs/" + encodeURIComponent(h.reference) + "/take").then(function (answer) {
          if (answer.status === 409) status.textContent = answer.body.error || "Someone else took it.";
          refresh().then(function () {
            var reply = document.getElementById("reply-text");
            if (reply) reply.focus();
          });
        });
      });
      box.append(take);
    }
    box.append(status);
    return box;
  }

  // The first call (no `after`) replaces the handoff's transcript with the whole
  // conversation so far; later calls add what came since.
  function pollMessages() {
    if (!shown || shown.busy) return Promise.resolve();
    var view = shown;
    view.busy = true;
    return c.api("GET", "handoffs/" + encodeURIComponent(view.reference) + "/messages" +
                 (view.after === null ? "" : "?after=" + view.after))
      .then(function (answer) {
        view.busy = false;
        if (answer.status !== 200 || shown !== view) return;
        var messages = answer.body.messages || [];
        if (view.after === null && messages.length) view.lines.replaceChildren();
        messages.forEach(function (line) {
          view.lines.appendChild(c.transcriptLine(line));
          view.after = line.time;
        });
        if (view.after === null) view.after = 0;
        if (messages.length) view.lines.scrollTop = view.lines.scrollHeight;
      }, function () { view.busy = false; });
  }

  function start() {
    stop();
    refresh();
    timer = setInterval(refresh, POLL_MS);
  }

  function stop() {
    clearInterval(timer);
    timer = null;
  }

  function reset() {
    stop();
    document.title = TITLE;
    handoffs = [];
    selected = shown = null;
    list.replaceChildren();
    detail.replaceChildren(c.el("h2", { id: "handoff-title", text: "Select a conversation" }));
  }

  return { start: start, stop: stop, reset: reset };
})(HeardConsole);
