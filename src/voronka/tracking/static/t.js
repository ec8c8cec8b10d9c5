/*! Voronka site tracker. Written for Voronka, served by your own Voronka; no third-party code.
 *
 * <script async src="https://crm.example/t.js" data-site="SITE_KEY"
 *         data-endpoint="https://crm.example"></script>
 *
 * Sends page views, visible seconds (heartbeats, and a beacon when the page is left), goals
 * (window.voronka.goal(name, props) or data-voronka-goal="name" on clickable elements) and
 * submissions of forms marked data-voronka-form="FORM_KEY". Shows a call-tracking number in
 * elements marked data-voronka-phone. Keeps one first-party cookie, _vrk (a random visitor
 * id). Honours Do Not Track and Global Privacy Control: then nothing is tracked and forms
 * are sent without the visitor id. See docs/site-tracker.md.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.voronka) { return; }
  var SITE = script.getAttribute("data-site");
  var BASE = (script.getAttribute("data-endpoint") || new URL(script.src).origin).replace(/\/+$/, "");
  var COOKIE = "_vrk";
  var HEARTBEAT_MS = 15000;
  var PRIVATE = navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl === true;

  function randomId(bytes) {
    var buf = new Uint8Array(bytes);
    window.crypto.getRandomValues(buf);
    var text = "";
    for (var i = 0; i < buf.length; i++) { text += String.fromCharCode(buf[i]); }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) { return decodeURIComponent(parts[i].slice(eq + 1)); }
    }
    return null;
  }

  function visitorId() {
    if (PRIVATE) { return null; }
    var id = readCookie(COOKIE);
    if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) { id = randomId(16); }
    var secure = location.protocol === "https:" ? "; Secure" : "";
    // Re-set on every page so the cookie lives 400 days after the last visit (browser cap).
    document.cookie = COOKIE + "=" + id + "; Max-Age=34560000; Path=/; SameSite=Lax" + secure;
    return id;
  }

  function signals() {
    var tz = "";
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { tz = ""; }
    return {
      screen: (screen.width || 0) + "x" + (screen.height || 0),
      tz: tz || String(new Date().getTimezoneOffset()),
      lang: navigator.language || "",
      webdriver: navigator.webdriver === true
    };
  }

  var visitor = visitorId();
  var view = randomId(12);
  var visibleMs = 0;
  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  var timer = null;

  function seconds() {
    var ms = visibleMs + (visibleSince ? Date.now() - visibleSince : 0);
    return Math.floor(ms / 1000);
  }

  function payload(type, extra) {
    var data = {
      site: SITE, visitor: visitor, type: type, view: view, url: location.href,
      referrer: document.referrer || null, title: document.title || null,
      seconds: seconds(), signals: signals()
    };
    for (var k in extra) { if (Object.prototype.hasOwnProperty.call(extra, k)) { data[k] = extra[k]; } }
    return JSON.stringify(data);
  }

  function post(path, body, beacon) {
    var url = BASE + path;
    // text/plain keeps the request "simple": no CORS preflight, works from any page.
    if (beacon && navigator.sendBeacon) {
      return Promise.resolve(navigator.sendBeacon(url, new Blob([body], { type: "text/plain" })));
    }
    return fetch(url, {
      method: "POST", body: body, keepalive: true, credentials: "omit", mode: "cors",
      headers: { "Content-Type": "text/plain" }
    });
  }

  function send(type, extra, beacon) {
    if (!visitor || !SITE) { return Promise.resolve(null); }
    return post("/api/v1/collect", payload(type, extra || {}), beacon).catch(function () { return null; });
  }

  function startHeartbeat() {
    if (timer === null) { timer = setInterval(function () { send("heartbeat"); }, HEARTBEAT_MS); }
  }

  function stopHeartbeat() {
    if (timer !== null) { clearInterval(timer); timer = null; }
  }

  function onVisibility() {
    if (document.visibilityState === "hidden") {
      if (visibleSince) { visibleMs += Date.now() - visibleSince; visibleSince = null; }
      stopHeartbeat();
      send("leave", {}, true);
    } else {
      visibleSince = Date.now();
      startHeartbeat();
    }
  }

  function newPage() {
    // single-page applications: a history change is a new page view
    send("leave", {}, true);
    view = randomId(12);
    visibleMs = 0;
    visibleSince = document.visibilityState === "visible" ? Date.now() : null;
    send("pageview");
  }

  function goal(name, properties) {
    return send("goal", { goal: String(name).slice(0, 100), event: randomId(12), properties: properties || {} });
  }

  // -- call tracking: a number reserved for this visit ------------------------------------------
  function showNumber() {
    var places = document.querySelectorAll("[data-voronka-phone]");
    if (!places.length || !visitor) { return Promise.resolve(null); }
    var body = JSON.stringify({ site: SITE, visitor: visitor, view: view, url: location.href,
                                referrer: document.referrer || null, signals: signals() });
    return post("/api/v1/collect/number", body, false)
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (!answer || !answer.number) { return answer; }
        for (var i = 0; i < places.length; i++) {
          places[i].textContent = answer.display || answer.number;
          if (places[i].tagName === "A") { places[i].setAttribute("href", "tel:" + answer.number); }
          places[i].setAttribute("data-voronka-number", answer.number);
        }
        return answer;
      })
      .catch(function () { return null; });
  }

  // -- lead forms ---------------------------------------------------------------------------------
  function fieldValues(form, honeypot) {
    var values = {};
    var elements = form.elements;
    for (var i = 0; i < elements.length; i++) {
      var el = elements[i];
      if (!el.name || el.disabled || el.type === "submit" || el.type === "button") { continue; }
      if (el.type === "checkbox") { values[el.name] = el.checked; }
      else if (el.type === "radio") { if (el.checked) { values[el.name] = el.value; } }
      else { values[el.name] = el.value; }
    }
    if (!(honeypot in values)) { values[honeypot] = ""; }
    return values;
  }

  function markErrors(form, details) {
    var marked = form.querySelectorAll("[aria-invalid]");
    for (var i = 0; i < marked.length; i++) { marked[i].removeAttribute("aria-invalid"); }
    for (var j = 0; j < details.length; j++) {
      var name = (details[j].field || "").replace(/^fields\./, "");
      var input = name && form.elements.namedItem(name);
      if (input && input.setAttribute) { input.setAttribute("aria-invalid", "true"); }
    }
  }

  function prepareForm(form) {
    var key = form.getAttribute("data-voronka-form");
    var state = { token: null, honeypot: "website", submission: randomId(16) };
    fetch(BASE + "/api/v1/forms/" + encodeURIComponent(key), { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (info) {
        if (!info) { return; }
        state.token = info.token;
        state.honeypot = info.honeypot;
        if (!form.elements.namedItem(info.honeypot)) {
          var trap = document.createElement("input");
          trap.type = "text"; trap.name = info.honeypot; trap.tabIndex = -1;
          trap.autocomplete = "off"; trap.setAttribute("aria-hidden", "true");
          trap.style.cssText = "position:absolute;left:-10000px;width:1px;height:1px;opacity:0";
          form.appendChild(trap);
        }
        form.setAttribute("data-voronka-state", "ready");
      })
      .catch(function () { return null; });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      form.setAttribute("data-voronka-state", "sending");
      var body = JSON.stringify({
        submission_id: state.submission, fields: fieldValues(form, state.honeypot),
        token: state.token, visitor: visitor, url: location.href, referrer: document.referrer || null
      });
      post("/api/v1/forms/" + encodeURIComponent(key), body, false)
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (answer) {
          if (answer.ok) {
            form.setAttribute("data-voronka-state", "sent");
            state.submission = randomId(16);  // the next submission is a new lead
            form.dispatchEvent(new CustomEvent("voronka:submitted", { detail: answer.data, bubbles: true }));
          } else {
            form.setAttribute("data-voronka-state", "error");
            markErrors(form, (answer.data.error && answer.data.error.details) || []);
            form.dispatchEvent(new CustomEvent("voronka:error", { detail: answer.data, bubbles: true }));
          }
        })
        .catch(function () { form.setAttribute("data-voronka-state", "error"); });
    });
  }

  function onClick(event) {
    var el = event.target && event.target.closest ? event.target.closest("[data-voronka-goal]") : null;
    if (el) { goal(el.getAttribute("data-voronka-goal")); }
  }

  function start() {
    var forms = document.querySelectorAll("form[data-voronka-form]");
    for (var i = 0; i < forms.length; i++) { prepareForm(forms[i]); }
    var ready = send("pageview");
    window.voronka.ready = ready.then(showNumber);
    document.addEventListener("visibilitychange", onVisibility);
    window.addEventListener("pagehide", function () {
      if (document.visibilityState === "visible") { send("leave", {}, true); }
    });
    document.addEventListener("click", onClick, true);
    var push = history.pushState;
    history.pushState = function () { var out = push.apply(this, arguments); newPage(); return out; };
    window.addEventListener("popstate", newPage);
    if (visibleSince) { startHeartbeat(); }
  }

  window.voronka = { goal: goal, visitor: visitor, showNumber: showNumber, ready: null };
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
