/* The tickets Heard opened (damage, billing, delivery cases...): filters, a list a page at a
 * time, one ticket's detail with its conversation, close and reassign. Loaded when the
 * tab is chosen and after every change; tickets don't need the queue's 2 s poll. */
HeardConsole.tickets = (function (c) {
  "use strict";

  var form = document.getElementById("ticket-filters");
  var error = document.getElementById("tickets-error");
  var list = document.getElementById("tickets-list");
  var count = document.getElementById("tickets-count");
  var empty = document.getElementById("tickets-empty");
  var more = document.getElementById("tickets-more");
  var detail = document.getElementById("ticket");
  var tickets = [];
  var total = 0;
  var selected = null;  // reference of the ticket shown
  var choices = null;   // {kinds, priorities, teams, agents} from ticket-choices
  var transcriptOpen = false;  // whether the shown ticket's conversation is open

  function path(reference, rest) {
    return "tickets/" + encodeURIComponent(reference) + (rest || "");
  }

  // How long a ticket has been open: minutes, then hours, then days.
  function age(seconds) {
    var hours = Math.floor((seconds || 0) / 3600);
    if (hours < 1) return c.minutes(seconds);
    if (hours < 48) return hours === 1 ? "1 hour" : hours + " hours";
    return Math.floor(hours / 24) + " days";
  }

  function options(select, values, label) {
    var chosen = select.value;
    values.forEach(function (value) {
      select.appendChild(c.el("option", { value: value, text: label(value) }));
    });
    select.value = chosen;
  }

  function loadChoices() {
    if (choices) return Promise.resolve(choices);
    return c.api("GET", "ticket-choices").then(function (answer) {
      if (answer.status !== 200) return null;
      choices = answer.body;
      options(form.elements.kind, choices.kinds || [], c.words);
      options(form.elements.priority, choices.priorities || [], function (p) { return p; });
      return choices;
    });
  }

  function query(offset) {
    var wanted = new URLSearchParams();
    ["kind", "priority", "status", "q", "sort"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) wanted.set(name, value);
    });
    if (offset) wanted.set("offset", String(offset));
    return "tickets?" + wanted;
  }

  // The first page for the filters (or, with `append`, the next one after those shown).
  function refresh(append) {
    return c.api("GET", query(append ? tickets.length : 0)).then(function (answer) {
      if (answer.status !== 200) {
        error.textContent = answer.body.error || "The tickets could not be loaded.";
        return;
      }
      error.textContent = "";
      var page = answer.body.tickets || [];
      tickets = append ? tickets.concat(page) : page;
      total = answer.body.total || 0;
      renderList();
    });
  }

  function load() {
    return loadChoices().then(function () { return refresh(false); });
  }

  function renderList() {
    count.textContent = "(" + (tickets.length < total ? tickets.length + " of " : "") + total + ")";
    empty.hidden = tickets.length > 0;
    more.hidden = tickets.length >= total;
    list.replaceChildren.apply(list, tickets.map(function (t) {
      var who = t.assignee ? t.assignee.name : t.team;
      var button = c.el("button", { type: "button", class: "queue-item ticket-item",
                                    "aria-current": String(t.reference === selected),
                                    "data-reference": t.reference }, [
        c.el("span", { class: "priority priority-" + t.priority, text: t.priority }),
        c.el("strong", { text: t.reference }),
        c.el("span", { class: "reason", text: c.words(t.kind) }),
        c.el("span", { class: "meta", text: [
          t.order_number ? "order " + t.order_number : null,
          t.customer ? t.customer.name : null,
          t.status === "closed" ? "closed" : "open " + age(t.age_seconds),
          who ? "with " + who : null
        ].filter(Boolean).join(" · ") })
      ]);
      button.addEventListener("click", function () { select(t.reference); });
      return c.el("li", {}, [button]);
    }));
  }

  function select(reference) {
    selected = reference;
    transcriptOpen = false;
    renderList();
    return c.api("GET", path(reference)).then(function (answer) {
      if (answer.status !== 200) {
        error.textContent = answer.body.error || "That ticket could not be loaded.";
        return;
      }
      if (selected !== reference) return;  // another ticket was chosen meanwhile
      renderDetail(answer.body);
      document.getElementById("ticket-title").focus();
    });
  }

  function person(p) { return p ? p.name : ""; }

  function facts(t) {
    var dl = c.el("dl", { class: "order ticket-facts" });
    [
      ["Order", t.order_number || "none"],
      ["Customer", t.customer ? t.customer.name + " · " + t.customer.email : "unknown"],
      ["Team", t.team || "none"],
      ["Assigned to", t.assignee ? t.assignee.name : "nobody yet"],
      ["Opened", c.dateTime(t.created_at) + " (" + age(t.age_seconds) + " ago)"],
      ["Last reassigned", t.assigned_at ?
        "by " + person(t.assigned_by) + ", " + c.dateTime(t.assigned_at) : ""],
      ["Closed", t.closed_at ? "by " + person(t.closed_by) + ", " + c.dateTime(t.closed_at) : ""],
      ["Conversation", t.conversation_id || "none recorded"]
    ].forEach(function (pair) {
      if (!pair[1]) return;
      dl.append(c.el("dt", { text: pair[0] }), c.el("dd", { text: pair[1] }));
    });
    return dl;
  }

  function section(title, body) {
    return c.el("section", { class: "detail-part" }, [c.el("h3", { text: title })].concat(body));
  }

  // The conversation that opened the ticket, fetched when asked for (it can be long).
  function conversation(t) {
    if (!t.conversation_id) return [c.el("p", { class: "muted", text: "No conversation recorded." })];
    var lines = c.el("ol", { class: "transcript", id: "ticket-transcript", tabindex: "0",
                             "aria-label": "Conversation", hidden: "" });
    var toggle = c.el("button", { type: "button", class: "secondary", "aria-expanded": "false",
                                  "aria-controls": "ticket-transcript", text: "Show conversation" });
    function show(open) {
      transcriptOpen = open;
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "Hide conversation" : "Show conversation";
      lines.hidden = !open;
      if (!open) return;
      c.api("GET", path(t.reference, "/messages")).then(function (answer) {
        var messages = answer.status === 200 ? answer.body.messages || [] : [];
        lines.replaceChildren.apply(lines, messages.length ? messages.map(c.transcriptLine) :
          [c.el("li", { class: "muted", text: answer.status === 200 ?
            "This conversation is no longer stored." : "The conversation could not be loaded." })]);
      });
    }
    toggle.addEventListener("click", function () {
      show(toggle.getAttribute("aria-expanded") !== "true");
    });
    if (transcriptOpen) show(true);  // stays open while the same ticket is changed
    return [toggle, lines];
  }

  function assigneeSelect(t) {
    var select = c.el("select", { id: "ticket-assignee", name: "to" });
    var teams = c.el("optgroup", { label: "Teams" }, (choices ? choices.teams : [t.team])
      .filter(Boolean).map(function (team) {
        return c.el("option", { value: "team:" + team, text: team });
      }));
    var agents = c.el("optgroup", { label: "Agents" }, (choices ? choices.agents : [])
      .map(function (a) { return c.el("option", { value: "agent:" + a.username, text: a.name }); }));
    select.append(teams, agents);
    select.value = t.assignee ? "agent:" + t.assignee.username : "team:" + t.team;
    return select;
  }

  function actions(t) {
    var status = c.el("p", { class: "action-status", role: "status", id: "ticket-action-status" });
    if (t.status === "closed") return c.el("div", { class: "actions" }, [status]);
    var select = assigneeSelect(t);
    var reassign = c.el("form", { class: "reassign" }, [
      c.el("label", { for: "ticket-assignee", text: "Reassign to" }), select,
      c.el("button", { type: "submit", text: "Reassign" })]);
    reassign.addEventListener("submit", function (event) {
      event.preventDefault();
      change(t, "/reassign", { to: select.value }, function (changed, ticket) {
        var to = ticket.assignee ? ticket.assignee.name : "the " + ticket.team + " team";
        return changed ? "Reassigned to " + to + "." : "It is with " + to + " already.";
      });
    });
    var close = c.el("button", { type: "button", class: "secondary", text: "Close ticket" });
    close.addEventListener("click", function () {
      change(t, "/close", undefined, function (changed) {
        return changed ? "Ticket closed." : "Someone had closed this ticket already.";
      });
    });
    return c.el("div", { class: "actions" }, [reassign, close, status]);
  }

  // A close or a reassignment; the detail shows the ticket as the answer has it.
  function change(t, action, payload, said) {
    return c.api("POST", path(t.reference, action), payload).then(function (answer) {
      if (answer.status === 200) {
        renderDetail(answer.body.ticket);
        document.getElementById("ticket-title").focus();
      }
      var status = document.getElementById("ticket-action-status");
      if (!status) return;  // signed out meanwhile: the tab was emptied
      status.textContent = answer.status === 200 ?
        said(answer.body.changed, answer.body.ticket) :
        answer.body.error || "That didn't work. Please try again.";
      return refresh(false);
    });
  }

  function renderDetail(t) {
    var title = c.el("h2", { id: "ticket-title", tabindex: "-1",
                             text: t.reference + " · " + c.words(t.kind) });
    var meta = c.el("p", { class: "meta", text: [
      "priority " + t.priority, t.status, t.team ? "team " + t.team : null,
      t.assignee ? "with " + t.assignee.name : null
    ].filter(Boolean).join(" · ") });
    detail.replaceChildren(title, meta, c.el("div", { class: "detail-columns" }, [
      c.el("div", { class: "detail-main" }, [
        section("Summary", [c.el("p", { class: "summary", text: t.summary || "" })]),
        section("Conversation", conversation(t)),
        actions(t)]),
      c.el("div", { class: "detail-side" }, [section("Details", [facts(t)])])]));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    refresh(false);
  });
  more.addEventListener("click", function () { refresh(true); });

  function reset() {
    tickets = [];
    total = 0;
    selected = null;
    choices = null;
    transcriptOpen = false;
    error.textContent = "";
    count.textContent = "";
    list.replaceChildren();
    more.hidden = true;
    form.reset();
    [form.elements.kind, form.elements.priority].forEach(function (select) {
      select.replaceChildren(select.options[0]);
    });
    detail.replaceChildren(c.el("h2", { id: "ticket-title", text: "Select a ticket" }));
  }

  return { load: load, reset: reset };
})(HeardConsole);
