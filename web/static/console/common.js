/* Helpers the console's scripts share: JSON requests and safe DOM building. */
var HeardConsole = (function () {
  "use strict";

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") node.textContent = attributes.text;
      else node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attributes) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    return node;
  }

  // Resolves with {status, body}; a signed-out answer (401) calls onSignedOut.
  function api(method, path, payload) {
    var options = { method: method, credentials: "same-origin", headers: {} };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    return fetch("/console/api/" + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.status === 401 && path !== "login" && HeardConsole.onSignedOut) {
          HeardConsole.onSignedOut();
        }
        return { status: response.status, body: body };
      });
    });
  }

  function words(name) { return String(name || "").replace(/_/g, " "); }

  function percent(fraction) {
    return fraction == null ? "–" : (Math.round(fraction * 1000) / 10) + " %";
  }

  function minutes(seconds) {
    var m = Math.floor((seconds || 0) / 60);
    return m < 1 ? "under a minute" : m === 1 ? "1 minute" : m + " minutes";
  }

  function shortDate(date) {
    return date.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
  }

  // A transcript line's `time`: seconds since 1970 (0 when unknown).
  function clock(seconds) {
    return seconds ? shortDate(new Date(seconds * 1000)) : "";
  }

  // A record's date as the API writes it, an ISO string (a callback, an order's dates).
  function dateTime(iso) {
    if (!iso) return "";
    var date = new Date(iso);
    return isNaN(date) ? String(iso) : shortDate(date);
  }

  // A line of heard.contract's transcript (a handoff's or a ticket's conversation).
  function transcriptLine(line) {
    var who = line.sender === "customer" ? "Customer" : line.sender === "agent" ?
      (line.agent || "Agent") : "Heard";
    return el("li", { class: "line line-" + line.sender }, [
      el("span", { class: "speaker", text: who }),
      el("span", { class: "time", text: clock(line.time) }),
      el("p", { text: line.text || "" })]);
  }

  // Same colours in the queue and on the dashboard; each has 4.5:1 or more on white.
  var EMOTION_COLOURS = {
    anger: "#b91c1c", frustration: "#c2410c", sadness: "#1d4ed8", anxiety: "#7e22ce",
    confusion: "#a16207", joy: "#15803d", neutral: "#4b5563"
  };
  function emotionColour(name) { return EMOTION_COLOURS[name] || "#4b5563"; }

  return { el: el, svg: svg, api: api, words: words, percent: percent, minutes: minutes,
           clock: clock, dateTime: dateTime, emotionColour: emotionColour,
           transcriptLine: transcriptLine,
           onSignedOut: null, me: null };
})();
