/* The empathy dashboard: figures from /console/api/dashboard as bar charts built from
 * DOM elements. Every bar carries its number as text, so the charts read as lists. */
HeardConsole.dashboard = (function (c) {
  "use strict";

  var form = document.getElementById("filters");
  var charts = document.getElementById("charts");
  var error = document.getElementById("dashboard-error");
  var channelSelect = document.getElementById("filter-channel");
  var CHANNEL_COLOURS = ["#1d4ed8", "#15803d", "#b91c1c", "#7e22ce", "#a16207", "#0f766e"];
  // The rates broken down per channel and per day: the field, and what it is a share of.
  var RATES = [
    { name: "containment", title: "Contained", field: "containment_rate",
      count: "conversations", of: "conversations", colour: "#1d4ed8" },
    { name: "resolution", title: "Resolved", field: "resolution_rate",
      count: "conversations", of: "conversations", colour: "#15803d" },
    { name: "fallback", title: "Fallbacks", field: "fallback_rate",
      count: "customer_messages", of: "customer messages", colour: "#c2410c" },
    { name: "calm-down", title: "Calmed down", field: "calm_down_rate",
      count: "started_upset", of: "conversations that began upset", colour: "#0f766e" }
  ];

  function isoDay(date) { return date.toISOString().slice(0, 10); }

  function defaults() {
    if (form.elements.to.value) return;
    var today = new Date();
    form.elements.to.value = isoDay(today);
    form.elements.from.value = isoDay(new Date(today.getTime() - 29 * 86400000));
  }

  function load() {
    defaults();
    var query = new URLSearchParams({ from: form.elements.from.value, to: form.elements.to.value,
                                      channel: form.elements.channel.value });
    charts.setAttribute("aria-busy", "true");
    return c.api("GET", "dashboard?" + query).then(function (answer) {
      charts.removeAttribute("aria-busy");
      if (answer.status !== 200) {
        error.textContent = answer.body.error || "The figures could not be loaded.";
        return;
      }
      error.textContent = "";
      channels(answer.body.channels || []);
      render(answer.body);
    });
  }

  function channels(names) {
    var chosen = channelSelect.value;
    var options = [c.el("option", { value: "", text: "All channels" })].concat(
      names.map(function (name) { return c.el("option", { value: name, text: name }); }));
    channelSelect.replaceChildren.apply(channelSelect, options);
    channelSelect.value = chosen;
  }

  function card(id, title, body, wide) {
    return c.el("section", { class: "card" + (wide ? " wide" : ""), id: id,
                             "aria-labelledby": id + "-title" },
                [c.el("h3", { id: id + "-title", text: title })].concat(body));
  }

  // Rows of label | bar | value; bars are scaled to the largest value of the chart.
  function bars(rows, options) {
    var max = Math.max.apply(null, [options.max || 0].concat(rows.map(function (r) { return r.value; })));
    if (!rows.length) return c.el("p", { class: "muted", text: "No data for these dates." });
    return c.el("ul", { class: "bars" }, rows.map(function (row) {
      var bar = c.el("span", { class: "bar", "aria-hidden": "true" });
      bar.style.width = (max > 0 ? (row.value / max) * 100 : 0) + "%";
      bar.style.background = row.colour || "#1d4ed8";
      return c.el("li", { "data-key": row.key || row.label }, [
        c.el("span", { class: "label", text: row.label }),
        c.el("span", { class: "track" }, [bar]),
        c.el("span", { class: "value", text: row.text })].concat(
        row.detail ? [c.el("span", { class: "visually-hidden", text: row.detail })] : []));
    }));
  }

  // One bar list per rate (bars on a 0-100 % scale), a row per channel or per day and
  // channel; keys are "<rate>:<row key>".
  function rateLists(id, rows, key, label) {
    if (!rows.length) return [c.el("p", { class: "muted", text: "No conversations in these dates." })];
    return [c.el("div", { class: "charts" }, RATES.map(function (rate) {
      var title = id + "-" + rate.name;
      return c.el("div", { role: "group", "aria-labelledby": title }, [
        c.el("h4", { id: title, text: rate.title }),
        bars(rows.map(function (row) {
          var value = row[rate.field];
          return { key: rate.name + ":" + key(row), label: label(row), value: value || 0,
                   text: c.percent(value), colour: rate.colour,
                   detail: " (of " + row[rate.count] + " " + rate.of + ")" };
        }), { max: 1 })]);
    }))];
  }

  function big(value, caption) {
    return c.el("p", { class: "big" }, [c.el("span", { class: "number", text: value }),
                                        c.el("span", { class: "caption", text: caption })]);
  }

  function perDay(rows) {
    if (!rows.length) return [c.el("p", { class: "muted", text: "No conversations in these dates." })];
    var names = [];
    var days = {};
    rows.forEach(function (r) {
      if (names.indexOf(r.channel) < 0) names.push(r.channel);
      days[r.day] = days[r.day] || {};
      days[r.day][r.channel] = (days[r.day][r.channel] || 0) + r.count;
    });
    var colour = function (name) { return CHANNEL_COLOURS[names.indexOf(name) % CHANNEL_COLOURS.length]; };
    var total = function (day) {
      return names.reduce(function (sum, n) { return sum + (days[day][n] || 0); }, 0);
    };
    var max = Math.max.apply(null, [1].concat(Object.keys(days).map(total)));
    var legend = c.el("ul", { class: "legend", "aria-label": "Channels" }, names.map(function (name) {
      var swatch = c.el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = colour(name);
      return c.el("li", {}, [swatch, name]);
    }));
    var list = c.el("ul", { class: "bars stacked" }, Object.keys(days).sort().map(function (day) {
      var track = c.el("span", { class: "track", "aria-hidden": "true" });
      var parts = names.filter(function (n) { return days[day][n]; });
      parts.forEach(function (name) {
        var part = c.el("span", { class: "bar", title: name + ": " + days[day][name] });
        part.style.width = (days[day][name] / max) * 100 + "%";
        part.style.background = colour(name);
        track.appendChild(part);
      });
      var detail = parts.map(function (n) { return n + " " + days[day][n]; }).join(", ");
      return c.el("li", { "data-key": day }, [
        c.el("span", { class: "label", text: day }), track,
        c.el("span", { class: "value", text: String(total(day)) }),
        c.el("span", { class: "visually-hidden", text: " (" + detail + ")" })]);
    }));
    return [legend, list];
  }

  function render(d) {
    var reasons = (d.escalation_rate_by_reason || []).map(function (r) {
      return { key: r.reason, label: c.words(r.reason), value: r.rate,
               text: c.percent(r.rate) + " (" + r.count + ")", colour: "#c2410c" };
    });
    var emotions = [];
    (d.emotion_start_vs_end || []).forEach(function (e) {
      emotions.push({ key: e.emotion + "-start", label: e.emotion + ", start", value: e.start,
                      text: String(e.start), colour: c.emotionColour(e.emotion) });
      emotions.push({ key: e.emotion + "-end", label: e.emotion + ", end", value: e.end,
                      text: String(e.end), colour: c.emotionColour(e.emotion) });
    });
    var intents = (d.angry_intents || []).map(function (i) {
      return { key: i.intent, label: c.words(i.intent), value: i.count, text: String(i.count),
               colour: "#b91c1c" };
    });
    var rating = d.average_rating == null ? "–" : Number(d.average_rating).toFixed(1);
    charts.replaceChildren(
      card("chart-volume", "Conversations per day and channel", perDay(d.conversations_per_day || []), true),
      card("chart-containment", "Containment rate",
           [big(c.percent(d.containment_rate),
                "of " + (d.conversations || 0) + " conversations solved without a human " +
                "and not left on a misunderstanding")]),
      card("chart-resolution", "Resolution rate",
           [big(c.percent(d.resolution_rate),
                "of " + (d.conversations || 0) + " conversations had a request completed")]),
      card("chart-fallback", "Fallback rate",
           [big(c.percent(d.fallback_rate),
                "of " + (d.customer_messages || 0) + " customer messages not understood")]),
      card("chart-calm-down", "Calm-down rate",
           [big(c.percent(d.calm_down_rate),
                "of " + (d.started_upset || 0) + " conversations that began upset ended calmer")]),
      card("chart-rating", "Average satisfaction",
           [big(rating + " / 5", "from " + (d.ratings_count || 0) + " ratings")]),
      card("chart-rates-channel", "Rates per channel",
           rateLists("chart-rates-channel", d.rates_per_channel || [],
                     function (r) { return r.channel; }, function (r) { return r.channel; }), true),
      card("chart-rates-day", "Rates per day and channel",
           rateLists("chart-rates-day", d.rates_per_day || [],
                     function (r) { return r.day + ":" + r.channel; },
                     function (r) { return r.day + " " + r.channel; }), true),
      card("chart-escalation", "Escalation rate by reason", [bars(reasons, { max: 0 })]),
      card("chart-emotions", "Emotion at the start and the end of conversations", [bars(emotions, {})]),
      card("chart-intents", "Intents that most often come with anger or frustration", [bars(intents, {})]));
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); load(); });

  return { load: load };
})(HeardConsole);
