/*
 * Heard's chat widget. Embed with one tag:
 *   <script src="https://heard.example/widget/heard-widget.js" defer></script>
 * It loads its own stylesheet and the socket.io client from the same server (or from
 * data-server="https://..." on the tag) and talks to Rasa's socket.io channel.
 * Everything a customer, Heard or an agent wrote is inserted as text, never as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript ||
    document.querySelector('script[src*="heard-widget.js"]');
  var SERVER = (script && script.getAttribute("data-server")) ||
    new URL(script.src, location.href).origin;
  var SESSION_KEY = "heard.session_id";
  var OPEN_KEY = "heard.open";

  var LABELS = {
    launcher: "Chat with Heard, our customer service assistant",
    title: "Heard",
    subtitle: "Customer service",
    close: "Close chat",
    log: "Conversation with customer service",
    input: "Type your message",
    send: "Send",
    typing: "Heard is typing",
    you: "You",
    agent: "A colleague",
    suggestions: "Suggested replies",
    talkingTo: function (name) { return "You're talking to " + name; },
    call: "Call Heard",
    callUnavailable: "Calls aren't available right now. You can keep typing here.",
    hangUp: "Hang up",
    agentJoined: function (name) { return name + " from our team has joined"; },
    agentLeft: function (name) { return (name ? name + " has left. " : "") + "Heard is back"; },
    offline: "We can't reach customer service right now. Please try again in a moment.",
    callStates: { connecting: "Connecting…", listening: "Listening", thinking: "Thinking…",
                  speaking: "Heard is talking" },
    callEnded: "Call ended",
    callFailed: "Sorry, the call didn't work. You can keep typing here."
  };

  // ---- small DOM helpers ----------------------------------------------------------

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") node.textContent = attributes.text;
      else node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  var URL_PATTERN = /https?:\/\/[^\s<>"']+/g;

  // Bot text becomes text nodes, <br> for line breaks and <a> for http(s) links.
  function richText(text) {
    var fragment = document.createDocumentFragment();
    String(text).split("\n").forEach(function (line, index) {
      if (index > 0) fragment.appendChild(document.createElement("br"));
      var last = 0;
      line.replace(URL_PATTERN, function (match, offset) {
        var url = match.replace(/[.,;:!?)\]]+$/, "");
        fragment.appendChild(document.createTextNode(line.slice(last, offset)));
        fragment.appendChild(link(url) || document.createTextNode(url));
        last = offset + url.length;
        return match;
      });
      fragment.appendChild(document.createTextNode(line.slice(last)));
    });
    return fragment;
  }

  function link(href) {
    var parsed;
    try { parsed = new URL(href); } catch (e) { return null; }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
    var a = el("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer" });
    a.textContent = href;
    return a;
  }

  // A random UUID v4 (crypto.randomUUID exists only on https and localhost pages).
  function newSessionId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function sessionId() {
    var id = localStorage.getItem(SESSION_KEY);
    if (!id) {
      id = newSessionId();
      localStorage.setItem(SESSION_KEY, id);
    }
    return id;
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var tag = el("script", { src: src });
      tag.onload = resolve;
      tag.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(tag);
    });
  }

  // ---- the widget -----------------------------------------------------------------

  var PHONE = window.matchMedia("(max-width: 480px)");  // as in heard-widget.css
  var session = sessionId();
  var agentName = null;
  var tabs = "BroadcastChannel" in window ? new BroadcastChannel("heard-widget") : null;
  var ui = build();

  function build() {
    document.head.appendChild(el("link", { rel: "stylesheet",
                                           href: SERVER + "/widget/heard-widget.css" }));
    var launcher = el("button", { type: "button", class: "heard-launcher",
                                  "aria-expanded": "false", "aria-controls": "heard-panel",
                                  "aria-label": LABELS.launcher },
                      [el("span", { "aria-hidden": "true", text: "Chat" })]);
    var status = el("p", { class: "heard-status", id: "heard-status", text: LABELS.subtitle });
    var call = el("button", { type: "button", class: "heard-call", "aria-label": LABELS.call,
                              "aria-disabled": "true", title: LABELS.callUnavailable,
                              "aria-describedby": "heard-call-note" },
                  [el("span", { "aria-hidden": "true", text: "Call" })]);
    var callNote = el("span", { id: "heard-call-note", class: "heard-sr-only",
                                text: LABELS.callUnavailable });
    var close = el("button", { type: "button", class: "heard-close", "aria-label": LABELS.close },
                   [el("span", { "aria-hidden": "true", text: "×" })]);
    var header = el("div", { class: "heard-header" }, [
      el("div", { class: "heard-heading" }, [
        el("h2", { id: "heard-title", text: LABELS.title }), status]),
      call, callNote, close]);
    var callBar = el("div", { class: "heard-callbar", hidden: "" }, [
      el("span", { class: "heard-callstate", role: "status" }),
      el("button", { type: "button", class: "heard-hangup", text: LABELS.hangUp })]);
    var log = el("div", { class: "heard-log", role: "log", "aria-live": "polite",
                          "aria-label": LABELS.log, tabindex: "0" });
    var typing = el("div", { class: "heard-typing", hidden: "", role: "status",
                             "aria-label": LABELS.typing },
                    [el("span"), el("span"), el("span")]);
    var input = el("input", { type: "text", id: "heard-input", autocomplete: "off",
                              maxlength: "1000", "aria-label": LABELS.input,
                              placeholder: LABELS.input });
    var form = el("form", { class: "heard-form" }, [
      input, el("button", { type: "submit", class: "heard-send", text: LABELS.send })]);
    var panel = el("section", { id: "heard-panel", class: "heard-panel", role: "dialog",
                                "aria-labelledby": "heard-title",
                                "aria-describedby": "heard-status", hidden: "" },
                   [header, callBar, log, typing, form]);
    var root = el("div", { class: "heard-widget" }, [panel, launcher]);
    document.body.appendChild(root);

    launcher.addEventListener("click", function () { setOpen(panel.hidden); });
    close.addEventListener("click", function () { setOpen(false); });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); setOpen(false); }
      else if (event.key === "Tab" && PHONE.matches) keepFocusInside(panel, event);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      input.value = "";
      send(text, text);
    });
    call.addEventListener("click", function () {
      if (call.getAttribute("aria-disabled") === "true") notice(LABELS.callUnavailable);
      else HeardCall.start();
    });
    callBar.querySelector(".heard-hangup").addEventListener("click", function () {
      HeardCall.stop();
    });
    return { root: root, launcher: launcher, panel: panel, status: status, call: call,
             callNote: callNote,
             callBar: callBar, callState: callBar.querySelector(".heard-callstate"),
             log: log, typing: typing, input: input };
  }

  // On a phone the panel covers the whole page: Tab must not reach links hidden behind it.
  function keepFocusInside(panel, event) {
    var focusable = Array.prototype.filter.call(
      panel.querySelectorAll("button, input, [tabindex='0']"),
      function (node) { return !node.disabled && node.offsetParent !== null; });
    if (!focusable.length) return;
    var first = focusable[0], last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault(); last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault(); first.focus();
    }
  }

  function setOpen(open, quietly) {
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.root.classList.toggle("heard-open", open);
    localStorage.setItem(OPEN_KEY, open ? "1" : "0");
    if (quietly) return;  // restoring after a reload: don't move the visitor's focus
    if (open) ui.input.focus();
    else ui.launcher.focus();
  }

  function scrollDown() { ui.log.scrollTop = ui.log.scrollHeight; }

  function message(sender, text, agent) {
    var bubble = el("div", { class: "heard-msg heard-from-" + sender });
    var who = sender === "customer" ? LABELS.you : sender === "agent" ? (agent || LABELS.agent) :
      LABELS.title;
    bubble.appendChild(el("span", { class: "heard-who", text: who + ": " }));
    var body = el("span", { class: "heard-text" });
    // Customers' own words stay plain text; Heard's and agents' get line breaks and links.
    if (sender === "customer") body.textContent = text;
    else body.appendChild(richText(text));
    bubble.appendChild(body);
    ui.log.appendChild(bubble);
    scrollDown();
  }

  function notice(text) {
    ui.log.appendChild(el("p", { class: "heard-notice", text: text }));
    scrollDown();
  }

  function quickReplies(buttons) {
    var group = el("div", { class: "heard-quick", role: "group", "aria-label": LABELS.suggestions });
    buttons.forEach(function (button) {
      var b = el("button", { type: "button", text: button.title });
      b.addEventListener("click", function () {
        group.remove();
        send(button.title, button.payload);
        ui.input.focus();
      });
      group.appendChild(b);
    });
    ui.log.appendChild(group);
    scrollDown();
  }

  function clearQuickReplies() {
    Array.prototype.forEach.call(ui.log.querySelectorAll(".heard-quick"),
                                 function (group) { group.remove(); });
  }

  var typingTimer = null;
  function setTyping(on) {
    ui.typing.hidden = !on;
    clearTimeout(typingTimer);
    // Heard normally answers in well under a second; don't leave the dots forever.
    if (on) typingTimer = setTimeout(function () { setTyping(false); }, 20000);
    if (on) scrollDown();
  }

  function setAgent(name) {
    agentName = name;
    ui.root.classList.toggle("heard-with-agent", !!name);
    ui.status.textContent = name ? LABELS.talkingTo(name) : LABELS.subtitle;
  }

  function send(shown, payload) {
    clearQuickReplies();
    message("customer", shown);
    if (tabs) tabs.postMessage({ session: session, text: shown });
    if (!agentName) setTyping(true);
    connect().then(function (s) {
      s.emit("user_uttered", { message: payload, session_id: session });
    }, function () { /* connect() told the customer */ });
  }

  // A bot_uttered payload from Rasa: text, quick replies, an agent's message, or
  // something custom the widget doesn't show (e.g. {"handoff": {...}}).
  function received(data) {
    if (!data || typeof data !== "object") return;
    if (typeof data.text === "string" && data.text) {
      setTyping(false);
      var sender = data.sender === "agent" ? "agent" : "heard";
      if (sender === "agent" && data.agent && data.agent !== agentName) setAgent(data.agent);
      message(sender, data.text, data.agent);
    }
    if (Array.isArray(data.quick_replies) && data.quick_replies.length) {
      quickReplies(data.quick_replies);
    }
    if (data.attachment && data.attachment.payload && data.attachment.payload.src) {
      var a = link(data.attachment.payload.src);
      if (a) { setTyping(false); ui.log.appendChild(el("p", { class: "heard-msg heard-from-heard" }, [a])); }
    }
  }

  function agentStatus(data) {
    if (!data) return;
    if (data.status === "joined") {
      setTyping(false);
      setAgent(data.agent || LABELS.agent);
      notice(LABELS.agentJoined(agentName));
    } else if (data.status === "left") {
      var name = data.agent || agentName;
      setAgent(null);
      notice(LABELS.agentLeft(name));
    }
  }

  var connecting = null;
  function connect() {
    if (connecting) return connecting;
    // Our own socket.io client, whatever version the page may have: theirs stays theirs.
    var theirs = window.io;
    connecting = loadScript(SERVER + "/vendor/socket.io.min.js")
      .then(function () {
        var io = window.io;
        if (theirs) window.io = theirs;
        return new Promise(function (resolve) {
          var socket = io(SERVER, { path: "/socket.io", transports: ["websocket", "polling"] });
          socket.on("connect", function () {
            ui.root.classList.remove("heard-offline");
            socket.emit("session_request", { session_id: session });
          });
          socket.on("session_confirm", function (confirmed) {
            // The server replaces an id it can't use; keep the one it confirmed.
            var id = confirmed && (confirmed.session_id || confirmed);
            if (typeof id === "string" && id !== session) {
              session = id;
              localStorage.setItem(SESSION_KEY, id);
            }
            resolve(socket);
          });
          socket.on("disconnect", function () { ui.root.classList.add("heard-offline"); });
          socket.on("bot_uttered", received);
          socket.on("agent_status", agentStatus);
        });
      })
      .catch(function (error) {
        connecting = null;  // try again with the next message
        setTyping(false);
        notice(LABELS.offline);
        throw error;
      });
    return connecting;
  }

  function loadHistory() {
    return fetch(SERVER + "/widget/history/" + encodeURIComponent(session))
      .then(function (response) { return response.ok ? response.json() : { messages: [] }; })
      .then(function (history) {
        var messages = history.messages || [];
        messages.forEach(function (m) {
          message(m.sender === "customer" || m.sender === "agent" ? m.sender : "heard",
                  m.text || "", m.agent);
        });
        var last = messages[messages.length - 1];
        if (last && last.buttons && last.buttons.length) quickReplies(last.buttons);
        if (history.agent) setAgent(history.agent);
      })
      .catch(function () { /* a new conversation: nothing to show */ });
  }

  function checkCalls() {
    fetch(SERVER + "/webhooks/browser_voice/status")
      .then(function (response) { return response.ok ? response.json() : {}; })
      .catch(function () { return {}; })
      .then(function (status) {
        var available = status && status.available === true;
        ui.call.setAttribute("aria-disabled", String(!available));
        ui.call.title = available ? "" : LABELS.callUnavailable;
        ui.callNote.textContent = available ? "" : LABELS.callUnavailable;
      });
  }

  if (tabs) {
    tabs.onmessage = function (event) {
      if (event.data && event.data.session === session) message("customer", event.data.text);
    };
  }

  // The call, kept in its own object so the chat works without Web Audio.
  var HeardCall = {
    socket: null, context: null, stream: null, queueEnd: 0, playing: [],

    start: function () {
      if (this.socket) return;
      var self = this;
      setOpen(true);
      ui.callBar.hidden = false;
      ui.call.setAttribute("aria-pressed", "true");
      self.state("connecting");
      navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true,
                                                     noiseSuppression: true } })
        .then(function (stream) {
          self.stream = stream;
          self.context = new AudioContext();
          return self.context.audioWorklet.addModule(SERVER + "/widget/heard-mic-worklet.js");
        })
        .then(function () { self.open(); })
        .catch(function (error) { self.end(error.name === "NotAllowedError" ?
          "Microphone access was not allowed." : LABELS.callFailed); });
    },

    open: function () {
      var self = this;
      var url = SERVER.replace(/^http/, "ws") + "/webhooks/browser_voice/stream";
      var ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      self.socket = ws;
      ws.onopen = function () {
        ws.send(JSON.stringify({ event: "start", session_id: session, sample_rate: 16000 }));
        var source = self.context.createMediaStreamSource(self.stream);
        var mic = new AudioWorkletNode(self.context, "heard-mic",
                                       { processorOptions: { targetRate: 16000 } });
        mic.port.onmessage = function (event) {
          if (ws.readyState === WebSocket.OPEN) ws.send(event.data);
        };
        source.connect(mic);
        self.state("listening");
      };
      ws.onmessage = function (event) {
        if (typeof event.data === "string") self.event(JSON.parse(event.data));
        else self.play(event.data);
      };
      ws.onclose = function () { self.end(); };
      ws.onerror = function () { self.end(LABELS.callFailed); };
    },

    event: function (data) {
      if (data.event === "state") this.state(data.state);
      else if (data.event === "transcript" && data.text) message("customer", data.text);
      else if (data.event === "bot" && data.text) message("heard", data.text);
      else if (data.event === "clear") this.silence();
      else if (data.event === "hangup") this.end();
      else if (data.event === "error") this.end(LABELS.callFailed);
    },

    // PCM16 little-endian, 16 kHz mono, queued back to back.
    play: function (buffer) {
      var samples = new Int16Array(buffer);
      var audio = this.context.createBuffer(1, samples.length, 16000);
      var channel = audio.getChannelData(0);
      for (var i = 0; i < samples.length; i++) channel[i] = samples[i] / 32768;
      var node = this.context.createBufferSource();
      node.buffer = audio;
      node.connect(this.context.destination);
      var at = Math.max(this.context.currentTime, this.queueEnd);
      node.start(at);
      this.queueEnd = at + audio.duration;
      var playing = this.playing;
      playing.push(node);
      node.onended = function () { playing.splice(playing.indexOf(node), 1); };
    },

    silence: function () {
      this.playing.slice().forEach(function (node) { try { node.stop(); } catch (e) { /* ended */ } });
      this.playing = [];
      this.queueEnd = 0;
    },

    state: function (name) {
      ui.callState.textContent = LABELS.callStates[name] || name;
      ui.callBar.setAttribute("data-state", name);
    },

    stop: function () {
      if (this.socket && this.socket.readyState === WebSocket.OPEN) {
        this.socket.send(JSON.stringify({ event: "stop" }));
      }
      this.end();
    },

    end: function (why) {
      if (!ui.callBar.hidden) notice(why || LABELS.callEnded);
      var ws = this.socket;
      this.socket = null;
      if (ws) { ws.onclose = null; ws.close(); }
      this.silence();
      if (this.stream) this.stream.getTracks().forEach(function (t) { t.stop(); });
      if (this.context) this.context.close();
      this.stream = this.context = null;
      ui.callBar.hidden = true;
      ui.call.removeAttribute("aria-pressed");
      ui.call.focus();
    }
  };

  loadHistory().then(function () {
    if (localStorage.getItem(OPEN_KEY) === "1") setOpen(true, true);
  });
  connect().catch(function () { /* said in the log; the next message tries again */ });
  checkCalls();
})();
