// Rapport staff page: search, the customer page and a small dashboard, all
// drawn from the JSON API of the server that serves this file. Plain DOM
// code, no libraries, nothing fetched from anywhere but this origin.
//
// It must never insert server text as HTML, with one exception: search
// snippets, where only <mark> and </mark> survive (see `snippet`).
"use strict";

const FACETS = ["kind", "source", "customer_country", "stage", "owner", "tags"];
const FACET_LABELS = {
  kind: "Kind", source: "Source", customer_country: "Country", stage: "Stage",
  owner: "Owner", tags: "Tags",
};
const PAGE = 10;
const TIMELINE_PAGE = 10;
// The kinds the timeline holds (customers::INTERACTIONS).
const TIMELINE_KINDS = ["note", "email", "ticket", "task", "event", "case"];

const $ = (sel) => document.querySelector(sel);
const nf = new Intl.NumberFormat();

// ---- small DOM helpers -----------------------------------------------------

/** Creates an element; `attrs` are attributes (on* handlers as listeners),
 *  children are nodes or strings (always text, never HTML). */
function h(tag, attrs, ...children) {
  const svg = ["svg", "rect", "text", "g", "line", "title", "a"].includes(tag) && attrs && attrs.svg;
  const el = svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "svg" || v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]/;
/** `lang="ja"` for text with kana or kanji, so the Japanese font is used. */
function langOf(text) {
  return text && CJK.test(String(text)) ? "ja" : null;
}
function t(tag, text, attrs) {
  return h(tag, Object.assign({ lang: langOf(text) }, attrs || {}), text ?? "");
}

/** A search snippet as nodes: text is escaped, only <mark></mark> becomes
 *  markup. The server already escapes the text (tantivy's to_html); entities
 *  are decoded here by the parser of a detached <template>, never run. */
function snippet(html) {
  const out = document.createDocumentFragment();
  const parts = String(html).split(/(<mark>|<\/mark>)/);
  let marked = false;
  for (const part of parts) {
    if (part === "<mark>") { marked = true; continue; }
    if (part === "</mark>") { marked = false; continue; }
    const text = decodeEntities(part);
    out.append(marked ? h("mark", null, text) : document.createTextNode(text));
  }
  return out;
}
function decodeEntities(s) {
  if (!s.includes("&")) return s;
  const tpl = document.createElement("textarea");
  tpl.innerHTML = s.replace(/</g, "&lt;");
  return tpl.value;
}

function fmtDate(s) {
  if (!s) return "";
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return String(s);
  return d.toISOString().slice(0, 10);
}
function fmtMoney(n) {
  return new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 }).format(n);
}

// ---- the API ---------------------------------------------------------------

class ApiError extends Error {}

/** The signed-in session's CSRF token, sent with every write. */
let csrfToken = null;

/** Fetches JSON; any failure becomes an ApiError whose message is words a
 *  person can read (the server's own message where there is one). A 401
 *  shows the sign-in form. Writes carry the session's CSRF token. */
async function api(path, options) {
  options = Object.assign({}, options);
  const method = (options.method || "GET").toUpperCase();
  if (method !== "GET" && csrfToken) {
    options.headers = Object.assign({}, options.headers, { "x-csrf-token": csrfToken });
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError("Could not reach the Rapport server (" + e.message + "). Is it running?");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    if (e.name === "AbortError") throw e;
  }
  if (response.status === 401) {
    const msg = (body && body.error && body.error.message) || "Sign in to continue.";
    // A late answer to a request sent before signing out must not replace
    // what the form already says.
    if ($("#signin-view").hidden) showSignIn(msg);
    throw new ApiError(msg);
  }
  if (!response.ok) {
    const msg = body && body.error && body.error.message;
    throw new ApiError(
      msg ? "The server said: " + msg + " (" + response.status + ")"
        : "The server answered " + response.status + " " + response.statusText + ".");
  }
  if (body === null) throw new ApiError("The server sent an answer that is not JSON.");
  return body;
}

function showError(message) {
  const box = $("#error");
  if (!message || !$("#signin-view").hidden) { box.hidden = true; box.textContent = ""; return; }
  box.textContent = message;
  box.hidden = false;
}

// ---- sign-in: a form when the API answers 401, a one-time link, sign-out ---

const VIEWS = ["search", "customer", "dashboard"];

function showSignIn(message) {
  for (const v of VIEWS) $("#" + v + "-view").hidden = true;
  $("#error").hidden = true;
  $("#signin-view").hidden = false;
  $("#whoami").hidden = true;
  $("#signout").hidden = true;
  csrfToken = null;
  $("#signin-status").textContent = message || "";
  $("#signin-user").focus();
}

/** `me` is the answer of GET or POST /v1/session. */
function signedIn(me) {
  csrfToken = me.csrf_token || null;
  $("#signin-view").hidden = true;
  $("#signin-status").textContent = "";
  $("#whoami").textContent = String(me.actor || "").replace(/^user:/, "");
  $("#whoami").hidden = false;
  $("#signout").hidden = !me.csrf_token;
}

async function signInWith(body) {
  return api("/v1/session", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
}

/** Signs in with a one-time link (`/#signin=TOKEN`, the token never leaves
 *  the browser in a URL), or picks up the current session, then routes. */
async function start() {
  const link = location.hash.match(/^#signin=([0-9a-f]+)$/);
  try {
    if (link) {
      history.replaceState(null, "", location.pathname + location.search);
      signedIn(await signInWith({ link: link[1] }));
    } else {
      signedIn(await api("/v1/session"));
    }
  } catch (e) {
    // A link's refusal is always said, even over a form already shown
    // (a used link opened in a tab that had signed out).
    if (link || $("#signin-view").hidden) showSignIn(e.message);
    return;
  }
  route();
}

function wireSignIn() {
  $("#signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const status = $("#signin-status");
    status.textContent = "Signing in…";
    try {
      const me = await signInWith({ user: $("#signin-user").value.trim(), password: $("#signin-password").value });
      $("#signin-password").value = "";
      signedIn(me);
      route();
    } catch (err) {
      showSignIn(err.message);
    }
  });
  $("#signout").addEventListener("click", async () => {
    try { await api("/v1/session", { method: "DELETE" }); } catch (e) { /* shown by the form */ }
    showSignIn("Signed out.");
  });
}

// ---- routing: all state lives in the URL's query string --------------------

function state() {
  return new URLSearchParams(location.search);
}
function go(params, replace) {
  const qs = params.toString();
  const url = location.pathname + (qs ? "?" + qs : "");
  if (url !== location.pathname + location.search) {
    (replace ? history.replaceState : history.pushState).call(history, null, "", url);
  }
  route();
}

function route() {
  const p = state();
  showError(null);
  const view = p.get("customer") ? "customer" : p.get("view") === "dashboard" ? "dashboard" : "search";
  $("#signin-view").hidden = true;
  for (const v of VIEWS) $("#" + v + "-view").hidden = v !== view;
  for (const a of document.querySelectorAll(".topnav a")) {
    if (a.dataset.nav === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (view === "customer") return showCustomer(p.get("customer"), p.get("kind") || "");
  if (view === "dashboard") return showDashboard();
  const q = p.get("q") || "";
  if ($("#q").value !== q && document.activeElement !== $("#q")) $("#q").value = q;
  return runSearch(p);
}

// ---- search ----------------------------------------------------------------

let searchController = null;
let selected = -1;

// A filter.FIELD list as the API reads it: comma-separated, a value with a
// comma or a quote (or "..", which would read as a range) in double quotes.
function splitFilter(text) {
  const out = [];
  let value = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { value += '"'; i++; }
      else if (ch === '"') quoted = false;
      else value += ch;
    } else if (ch === '"' && value.trim() === "") { quoted = true; value = ""; }
    else if (ch === ",") { out.push(value.trim()); value = ""; }
    else value += ch;
  }
  out.push(value.trim());
  return out.filter(Boolean);
}

function joinFilter(values) {
  return values.map((v) => (/[",]|\.\./.test(v) ? '"' + v.replaceAll('"', '""') + '"' : v)).join(",");
}

function filtersOf(p) {
  const filters = {};
  for (const [k, v] of p) {
    if (k.startsWith("filter.")) filters[k.slice(7)] = splitFilter(v);
  }
  return filters;
}

async function runSearch(p) {
  if (searchController) searchController.abort();
  searchController = new AbortController();
  const signal = searchController.signal;
  const q = (p.get("q") || "").trim();
  const page = Math.max(1, parseInt(p.get("page") || "1", 10) || 1);
  const api_p = new URLSearchParams();
  api_p.set("q", q || "*");
  api_p.set("facets", FACETS.join(","));
  api_p.set("limit", String(PAGE));
  api_p.set("offset", String((page - 1) * PAGE));
  for (const [k, v] of p) if (k.startsWith("filter.")) api_p.set(k, v);
  document.title = q ? q + " – Rapport" : "Rapport";
  $("#summary").textContent = "Searching…";
  let data;
  try {
    data = await api("/v1/search?" + api_p.toString(), { signal });
  } catch (e) {
    if (e.name === "AbortError") return;
    $("#summary").textContent = "";
    $("#results").replaceChildren();
    $("#pager").replaceChildren();
    showError(e.message);
    return;
  }
  if (signal.aborted) return;
  showError(null);
  renderSearch(p, data, page);
}

function renderSearch(p, data, page) {
  const total = data.total_customers ?? 0;
  const customers = data.customers || [];
  const first = (page - 1) * PAGE + 1;
  $("#summary").replaceChildren(
    total === 0
      ? "No customers match."
      : `${nf.format(first)}–${nf.format(first + customers.length - 1)} of ${nf.format(total)} customers` +
        ` (${nf.format(data.total ?? 0)} matching records, ${Math.round(data.took_ms ?? 0)} ms)`,
    ...(data.warnings || []).map((w) => h("div", { class: "muted" }, w)));
  selected = -1;
  $("#results").replaceChildren(...customers.map((c, i) => resultItem(c, i)));
  renderFacets(p, data.facets || {});
  const pager = [];
  const to = (n) => {
    const next = new URLSearchParams(p);
    if (n <= 1) next.delete("page"); else next.set("page", String(n));
    return next;
  };
  if (total > PAGE) {
    const last = Math.ceil(total / PAGE);
    pager.push(
      h("button", { class: "btn", disabled: page <= 1, onclick: () => go(to(page - 1)) }, "← Previous"),
      h("span", { class: "muted" }, `Page ${page} of ${last}`),
      h("button", { class: "btn", disabled: page >= last, onclick: () => go(to(page + 1)) }, "Next →"));
  }
  $("#pager").replaceChildren(...pager);
}

function customerHref(id) {
  return "/?customer=" + encodeURIComponent(id);
}

function resultItem(c, i) {
  const records = (c.records || []).map((r) => {
    const snips = Object.entries(r.snippets || {}).filter(([f]) => f !== "title" && f !== "names");
    const titleSnip = (r.snippets || {}).title;
    return h("div", { class: "rec" },
      h("span", { class: "badge" }, r.kind),
      h("span", { lang: langOf(r.title) }, titleSnip ? snippet(titleSnip) : r.title || r.external_id),
      h("span", { class: "meta" }, " · ", r.source),
      snips.slice(0, 1).map(([, s]) => h("div", { class: "snip", lang: langOf(s) }, snippet(s))));
  });
  return h("li", { class: "result", "data-index": i, "data-customer": c.customer_id },
    h("h2", null, h("a", { href: customerHref(c.customer_id), lang: langOf(c.name), "data-open": "" },
      c.name || c.customer_id)),
    h("div", { class: "meta" },
      h("span", { class: "badge" }, c.kind || "customer"),
      [c.country, `${nf.format(c.matching_records ?? 0)} matching record${c.matching_records === 1 ? "" : "s"}`]
        .filter(Boolean).join(" · ")),
    records);
}

function renderFacets(p, facets) {
  const filters = filtersOf(p);
  const groups = [];
  for (const field of FACETS) {
    const values = facets[field] || [];
    const chosen = filters[field] || [];
    if (values.length === 0 && chosen.length === 0) continue;
    const seen = new Set(values.map((v) => String(v.value)));
    const rows = values.map((v) => facetButton(p, field, String(v.value), v.count, chosen));
    for (const c of chosen) if (!seen.has(c)) rows.push(facetButton(p, field, c, 0, chosen));
    groups.push(h("h3", null, FACET_LABELS[field] || field), h("ul", { "data-facet": field }, rows));
  }
  if (Object.keys(filters).length) {
    const clear = new URLSearchParams(p);
    for (const k of [...clear.keys()]) if (k.startsWith("filter.") || k === "page") clear.delete(k);
    groups.push(h("div", { class: "clear" },
      h("button", { class: "btn", onclick: () => go(clear) }, "Clear filters")));
  }
  $("#facets").replaceChildren(...groups);
}

function facetButton(p, field, value, count, chosen) {
  const on = chosen.includes(value);
  return h("li", null, h("button", {
    "aria-pressed": on ? "true" : "false",
    "data-value": value,
    onclick: () => {
      const next = new URLSearchParams(p);
      const values = on ? chosen.filter((v) => v !== value) : [...chosen, value];
      if (values.length) next.set("filter." + field, joinFilter(values));
      else next.delete("filter." + field);
      next.delete("page");
      go(next);
    },
  }, h("span", { lang: langOf(value) }, value), h("span", { class: "count" }, nf.format(count))));
}

let debounce = null;
function onType() {
  clearTimeout(debounce);
  debounce = setTimeout(() => {
    const p = state();
    const q = $("#q").value;
    if ((p.get("q") || "") === q && !p.get("customer") && p.get("view") !== "dashboard") return;
    const next = new URLSearchParams();
    if (q) next.set("q", q);
    // Filters stay while typing on the search page; other pages start afresh.
    if (!p.get("customer") && p.get("view") !== "dashboard") {
      for (const [k, v] of p) if (k.startsWith("filter.")) next.set(k, v);
    }
    // Typing replaces the history entry; a new search from another page pushes.
    go(next, !p.get("customer") && p.get("view") !== "dashboard");
  }, 160);
}

// ---- name suggestions under the box -----------------------------------------

let suggestTimer = null;
let suggestController = null;
let suggestIndex = -1;

function suggestionsShown() {
  return !$("#suggest").hidden;
}

function hideSuggestions() {
  clearTimeout(suggestTimer);
  if (suggestController) suggestController.abort();
  $("#suggest").hidden = true;
  $("#suggest").replaceChildren();
  $("#q").setAttribute("aria-expanded", "false");
  suggestIndex = -1;
}

/** Names (customers, people, companies) starting with what is typed, from
 *  /v1/suggest, shown under the box; a failure only hides them. */
function onTypeSuggest() {
  clearTimeout(suggestTimer);
  const text = $("#q").value.trim();
  if (text.length < 2 || text === "*") { hideSuggestions(); return; }
  suggestTimer = setTimeout(async () => {
    if (suggestController) suggestController.abort();
    suggestController = new AbortController();
    let body;
    try {
      body = await api("/v1/suggest?limit=6&q=" + encodeURIComponent(text), { signal: suggestController.signal });
    } catch (e) {
      hideSuggestions();
      return;
    }
    if ($("#q").value.trim() !== text || document.activeElement !== $("#q")) return;
    const items = (body.suggestions || []).map((s, i) => {
      const href = s.customer_id ? customerHref(s.customer_id) : "/?q=" + encodeURIComponent(s.text);
      return h("li", { role: "option", id: "suggest-" + i, "aria-selected": "false" },
        h("a", { href, tabindex: "-1", "data-suggestion": s.text },
          h("span", { lang: langOf(s.text) }, s.text), h("span", { class: "badge" }, s.kind)));
    });
    suggestIndex = -1;
    $("#suggest").replaceChildren(...items);
    $("#suggest").hidden = items.length === 0;
    $("#q").setAttribute("aria-expanded", items.length ? "true" : "false");
  }, 90);
}

function moveSuggestion(delta) {
  const items = [...document.querySelectorAll("#suggest li")];
  if (!items.length) return;
  suggestIndex = Math.max(-1, Math.min(items.length - 1, suggestIndex + delta));
  items.forEach((el, i) => el.setAttribute("aria-selected", i === suggestIndex ? "true" : "false"));
  if (suggestIndex >= 0) $("#q").setAttribute("aria-activedescendant", items[suggestIndex].id);
  else $("#q").removeAttribute("aria-activedescendant");
}

function moveSelection(delta) {
  const items = [...document.querySelectorAll("#results .result")];
  if (!items.length) return;
  selected = Math.max(0, Math.min(items.length - 1, selected + delta));
  items.forEach((el, i) => el.classList.toggle("selected", i === selected));
  items[selected].scrollIntoView({ block: "nearest" });
  items[selected].querySelector("a[data-open]").focus({ preventScroll: true });
}

// ---- customer page ---------------------------------------------------------

async function showCustomer(id, kind) {
  const view = $("#customer-view");
  view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  let c;
  try {
    c = await api("/v1/customers/" + encodeURIComponent(id));
  } catch (e) {
    view.replaceChildren(h("p", null, h("a", { href: "/", "data-nav": "search" }, "← Back to search")));
    showError(e.message);
    return;
  }
  document.title = (c.name || c.id) + " – Rapport";
  const fields = Object.entries((c.golden && c.golden.fields) || {});
  const m = c.metrics || {};
  const metric = (label, value) => h("div", { class: "metric" }, h("b", null, value), label);
  const timeline = h("ol", { class: "timeline", id: "timeline" });
  const more = h("div", { class: "pager" });
  const kinds = h("div", { class: "kinds", role: "group", "aria-label": "Show only" },
    ["", ...TIMELINE_KINDS].map((k) => h("button", {
      class: "btn", "aria-pressed": k === kind ? "true" : "false", "data-kind": k,
      onclick: () => {
        const next = state();
        if (k) next.set("kind", k); else next.delete("kind");
        history.replaceState(null, "", "/?" + next.toString());
        for (const b of kinds.querySelectorAll("button")) b.setAttribute("aria-pressed", b.dataset.kind === k ? "true" : "false");
        loadTimeline(c.id, k, null, timeline, more);
      },
    }, k || "all")));
  view.replaceChildren(
    h("div", { class: "cust-head card" },
      h("p", { class: "meta" }, h("a", { href: "/", onclick: backOrSearch }, "← Back")),
      t("h1", c.name || c.id),
      h("div", { class: "meta" }, h("span", { class: "badge" }, c.kind), c.id,
        c.organization ? [" · works at ", h("a", { href: customerHref(c.organization.id), lang: langOf(c.organization.name) }, c.organization.name)] : null)),
    h("div", { class: "cust-grid" },
      h("div", null,
        h("section", { class: "card" }, h("h2", null, "Golden record"),
          fields.length ? h("table", null,
            h("thead", null, h("tr", null, h("th", null, "Field"), h("th", null, "Value and variants"), h("th", null, "From"))),
            h("tbody", null, fields.map(([name, f]) => goldenRow(name, f))))
            : h("p", { class: "muted" }, "No fields.")),
        noteForm(c.id, () => loadTimeline(c.id, state().get("kind") || "", null, timeline, more)),
        h("section", { class: "card" }, h("h2", null, "Timeline (newest first)"), kinds, timeline, more)),
      h("div", null,
        h("section", { class: "card" }, h("h2", null, "Metrics"), h("div", { class: "metrics" },
          metric("interactions", nf.format(m.interactions ?? 0)),
          metric("open opportunities", nf.format(m.open_opportunities ?? 0)),
          metric("open tickets", nf.format(m.open_tickets ?? 0)),
          metric("won amount", fmtMoney(m.won_amount ?? 0)),
          metric("first contact", fmtDate(m.first_contact) || "–"),
          metric("last contact", fmtDate(m.last_contact) || "–"))),
        attributesCard(c.attributes || {}),
        hierarchyCard(c),
        (c.people && c.people.length) ? h("section", { class: "card" }, h("h2", null, "People"),
          h("ul", null, c.people.map((p) => h("li", null, h("a", { href: customerHref(p.id), lang: langOf(p.name) }, p.name || p.id))))) : null,
        h("section", { class: "card" }, h("h2", null, "Data quality"),
          (c.quality && c.quality.length)
            ? h("ul", null, c.quality.map((q) => h("li", null, h("b", null, q.field), ": ", t("span", q.reason), h("span", { class: "meta" }, " (", q.record, ")"))))
            : h("p", { class: "muted" }, "No quality issues.")),
        h("section", { class: "card" }, h("h2", null, "Records and why they belong here"),
          h("ul", null, (c.records || []).map((r) => h("li", null,
            h("span", { class: "badge" }, r.kind), t("span", r.title || r.external_id),
            h("div", { class: "meta" }, r.source + ":" + r.external_id,
              (r.evidence && r.evidence.length) ? " — " + r.evidence.join("; ") : " — its own record"),
            (r.matches || []).map(waterfall))))))));
  loadTimeline(c.id, kind, null, timeline, more);
}

/** The account hierarchy: parent, children and the roll-up over them all
 *  (only for an organisation that has either). */
function hierarchyCard(c) {
  const children = c.children || [];
  if (!c.parent && !children.length) return null;
  const link = (o) => h("a", { href: customerHref(o.id), lang: langOf(o.name) }, o.name || o.id);
  const metric = (label, value) => h("div", { class: "metric" }, h("b", null, value), label);
  const r = c.rollup;
  return h("section", { class: "card", id: "hierarchy" }, h("h2", null, "Account hierarchy"),
    c.parent ? h("p", null, "Parent: ", link(c.parent)) : null,
    children.length ? [h("p", null, "Subsidiaries:"), h("ul", null, children.map((o) => h("li", null, link(o))))] : null,
    r ? h("div", { class: "metrics" },
      metric("organisations", nf.format(r.organizations) + (r.truncated ? "+" : "")),
      metric("interactions, all", nf.format(r.interactions)),
      metric("open opportunities, all", nf.format(r.open_opportunities)),
      metric("open tickets, all", nf.format(r.open_tickets)),
      metric("won amount, all", fmtMoney(r.won_amount))) : null);
}

// ---- write-back: notes and attributes --------------------------------------

/** The note form: text and tags, posted to /v1/notes (the author is the
 *  signed-in user); `saved` reloads the timeline. Errors are shown in words. */
function noteForm(customerId, saved) {
  const text = h("textarea", { id: "note-text", rows: 3, placeholder: "What happened? (Ctrl+Enter saves)" });
  const tags = h("input", { id: "note-tags", type: "text", placeholder: "visit, renewal", autocomplete: "off" });
  const status = h("p", { id: "note-status", class: "meta", role: "status", "aria-live": "polite" });
  const button = h("button", { class: "btn primary", type: "submit" }, "Save note");
  const form = h("form", { class: "card note-form", id: "note-form", "aria-label": "Add a note" },
    h("h2", null, "Add a note"),
    h("label", { for: "note-text" }, "Note"), text,
    h("div", { class: "note-row" },
      h("label", null, "Tags ", tags),
      button),
    status);
  text.addEventListener("input", () => {
    if (status.classList.contains("bad")) { status.textContent = ""; status.classList.remove("bad"); }
  });
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    status.classList.remove("bad");
    if (!text.value.trim()) {
      status.textContent = "Write something first: the note is empty.";
      status.classList.add("bad");
      text.focus();
      return;
    }
    const body = {
      customer_id: customerId,
      text: text.value,
      tags: tags.value.split(",").map((x) => x.trim()).filter(Boolean),
    };
    button.disabled = true;
    status.textContent = "Saving…";
    try {
      const note = await api("/v1/notes", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
      });
      text.value = "";
      tags.value = "";
      status.textContent = "Saved. It is in the timeline and in search.";
      status.dataset.saved = note.record_id || "";
      saved();
    } catch (err) {
      status.textContent = "The note was not saved. " + err.message;
      status.classList.add("bad");
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** Attributes written back by analysts (scores, flags, segments). */
function attributesCard(attributes) {
  const entries = Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b));
  return h("section", { class: "card", id: "attributes" }, h("h2", null, "Attributes"),
    entries.length
      ? h("table", null, h("tbody", null, entries.map(([k, v]) =>
        h("tr", { "data-key": k }, h("th", null, k.replace(/_/g, " ")),
          t("td", typeof v === "boolean" ? String(v) : fmtValue(v))))))
      : h("p", { class: "muted" }, "None written back yet."));
}

function backOrSearch(e) {
  e.preventDefault();
  if (history.length > 1) history.back(); else go(new URLSearchParams());
}

function goldenRow(name, f) {
  const variants = (f.variants || []).filter((v) => String(v.value) !== String(f.value) || f.variants.length > 1);
  return h("tr", { "data-field": name },
    h("th", null, name.replace(/_/g, " ")),
    h("td", null, t("div", fmtValue(f.value)),
      variants.length > 1 || (variants.length === 1 && String(variants[0].value) !== String(f.value))
        ? h("ul", { class: "variants" }, variants.map((v) =>
          h("li", null, t("span", fmtValue(v.value)), ` — ${v.source}:${v.external_id}${v.date ? ", " + fmtDate(v.date) : ""}`)))
        : null),
    h("td", { class: "meta" }, `${f.source}:${f.external_id}`));
}

/** One match's evidence as a waterfall: each compared feature's weight in
 *  bits (log2 of a Bayes factor) as a bar, for or against, and the total. */
function waterfall(m) {
  const e = m.evidence || {};
  const weights = e.weights || [];
  const widest = Math.max(1, ...weights.map((w) => Math.abs(w.bits)));
  const bits = (b) => (b >= 0 ? "+" : "") + b.toFixed(1);
  // The width through the CSSOM: the page's CSP refuses style attributes.
  const bar = (b) => {
    const span = h("span");
    span.style.width = (100 * Math.abs(b) / widest).toFixed(0) + "%";
    return span;
  };
  return h("details", { class: "waterfall" },
    h("summary", null, `matches ${m.record}: ${bits(e.total ?? 0)} bits${e.conflict ? " (conflict)" : ""}`),
    h("table", null, h("tbody", null, weights.map((w) => h("tr", { class: w.bits >= 0 ? "for" : "against" },
      t("th", w.feature), t("td", w.level),
      h("td", { class: "num" }, bits(w.bits)),
      h("td", { class: "bar" }, bar(w.bits)))))));
}

function fmtValue(v) {
  if (Array.isArray(v)) return v.map(fmtValue).join(", ");
  if (v && typeof v === "object" && "file" in v) {
    return [v.file, v.line != null ? "line " + v.line : null, v.offset != null ? "offset " + v.offset : null]
      .filter(Boolean).join(", ");
  }
  if (v && typeof v === "object") return JSON.stringify(v);
  return v ?? "";
}

let timelineController = null;
async function loadTimeline(id, kind, cursor, list, more) {
  if (!cursor) {
    if (timelineController) timelineController.abort();
    list.replaceChildren();
  }
  timelineController = new AbortController();
  const p = new URLSearchParams({ limit: String(TIMELINE_PAGE) });
  if (kind) p.set("kind", kind);
  if (cursor) p.set("cursor", cursor);
  more.replaceChildren(h("span", { class: "muted" }, "Loading…"));
  let page;
  try {
    page = await api(`/v1/customers/${encodeURIComponent(id)}/timeline?${p}`, { signal: timelineController.signal });
  } catch (e) {
    if (e.name === "AbortError") return;
    more.replaceChildren();
    showError(e.message);
    return;
  }
  list.append(...(page.items || []).map(timelineItem));
  if (!list.children.length) list.append(h("li", { class: "muted" }, kind ? `No ${kind} records.` : "Nothing yet."));
  more.replaceChildren(page.next_cursor != null
    ? h("button", { class: "btn", onclick: () => loadTimeline(id, kind, String(page.next_cursor), list, more) }, "Older…")
    : h("span", { class: "muted" }, list.querySelector("details") ? "That is everything." : ""));
}

const SKIP = new Set(["body", "title", "kind"]);
function timelineItem(item) {
  const when = fmtDate(item.created || item.updated || item.date);
  const body = item.body || "";
  const firstLine = body.split("\n").find((l) => l.trim()) || "";
  const details = Object.entries(item).filter(([k, v]) => !SKIP.has(k) && v !== null && v !== "" &&
    !(Array.isArray(v) && v.length === 0));
  return h("li", { "data-kind": item.kind, "data-id": item.source + ":" + item.external_id },
    h("details", null,
      h("summary", null,
        h("span", { class: "meta" }, when, " "), h("span", { class: "badge" }, item.kind),
        t("b", item.title || item.external_id),
        firstLine ? h("div", { class: "meta", lang: langOf(firstLine) }, firstLine.slice(0, 160)) : null),
      h("dl", null, details.map(([k, v]) => [h("dt", null, k.replace(/_/g, " ")), t("dd", fmtValue(v))])),
      body ? t("pre", body, { class: "body" }) : null));
}

// ---- dashboard -------------------------------------------------------------

async function showDashboard() {
  const view = $("#dashboard-view");
  document.title = "Dashboard – Rapport";
  const charts = [
    { id: "kind", title: "Records by kind", level: "records",
      aggs: { a: { terms: { field: "kind", size: 20 } } }, filter: "kind" },
    { id: "country", title: "Customers by country", level: "customers",
      aggs: { a: { terms: { field: "customer_country", size: 20 } } }, filter: "customer_country" },
    { id: "stage", title: "Pipeline amount by stage", level: "records", money: true,
      aggs: { a: { terms: { field: "stage", size: 20 }, aggs: { amount: { sum: { field: "amount" } } } } },
      filter: "stage" },
  ];
  const activity = h("section", { class: "card chart", id: "chart-activity" },
    h("h2", null, "Interactions per 30 days, by kind"), h("p", { class: "muted" }, "Loading…"));
  const boxes = charts.map((c) => h("section", { class: "card chart", id: "chart-" + c.id },
    h("h2", null, c.title), h("p", { class: "muted" }, "Loading…")));
  const quality = h("section", { class: "card chart", id: "chart-quality" },
    h("h2", null, "Data-quality issues by source"), h("p", { class: "muted" }, "Loading…"));
  view.replaceChildren(h("div", { class: "charts" }, activity, boxes, quality));
  const errors = [];
  await Promise.all([
    ...charts.map(async (c, i) => {
      try {
        const data = await api("/v1/search", {
          method: "POST", headers: { "content-type": "application/json" },
          body: JSON.stringify({ q: "*", group: "none", limit: 1, aggs_level: c.level, aggs: c.aggs }),
        });
        const buckets = ((data.aggregations || {}).a || {}).buckets || [];
        const bars = buckets.map((b) => ({
          label: String(b.key),
          value: c.money ? ((b.amount && b.amount.value) || 0) : b.doc_count,
          href: "/?q=*&filter." + c.filter + "=" + encodeURIComponent(joinFilter([String(b.key)])),
        }));
        boxes[i].replaceChildren(h("h2", null, c.title), barChart(bars, c.money ? fmtMoney : (n) => nf.format(n)));
      } catch (e) {
        boxes[i].replaceChildren(h("h2", null, c.title), h("p", { class: "empty" }, "Not available."));
        errors.push(e.message);
      }
    }),
    (async () => {
      const title = "Interactions per 30 days, by kind";
      try {
        const data = await api("/v1/search", {
          method: "POST", headers: { "content-type": "application/json" },
          body: JSON.stringify({
            q: "*", group: "none", limit: 1, filters: { kind: TIMELINE_KINDS },
            aggs: { a: { date_histogram: { field: "created", fixed_interval: "30d" },
              aggs: { k: { terms: { field: "kind", size: 20 } } } } },
          }),
        });
        const buckets = ((data.aggregations || {}).a || {}).buckets || [];
        let first = buckets.findIndex((b) => b.doc_count > 0);
        let last = buckets.length - 1;
        while (last >= 0 && buckets[last].doc_count === 0) last--;
        if (first < 0) first = buckets.length;
        first = Math.max(first, last - 23);
        const DAY = 86400000;
        const columns = buckets.slice(first, last + 1).map((b) => {
          const from = new Date(b.key).toISOString().slice(0, 10);
          const to = new Date(b.key + 29 * DAY).toISOString().slice(0, 10);
          return {
            label: from, value: b.doc_count,
            segments: ((b.k || {}).buckets || []).map((k) => ({ kind: String(k.key), count: k.doc_count })),
            href: "/?q=*&filter.created=" + from + ".." + to,
          };
        });
        activity.replaceChildren(h("h2", null, title), columnChart(columns));
      } catch (e) {
        activity.replaceChildren(h("h2", null, title), h("p", { class: "empty" }, "Not available."));
        errors.push(e.message);
      }
    })(),
    (async () => {
      try {
        const report = await api("/v1/quality");
        const bySource = new Map();
        for (const issue of report.issues || []) {
          bySource.set(issue.source, (bySource.get(issue.source) || 0) + (issue.count || 0));
        }
        const bars = [...bySource].sort((a, b) => b[1] - a[1]).map(([source, n]) => ({
          label: source, value: n, href: "/?q=*&filter.source=" + encodeURIComponent(joinFilter([source])),
        }));
        // The steward's queue, most likely first, as items a steward
        // decides: pairs with evidence beyond a name, and one group per
        // name that namesakes share and nothing else.
        const queue = await api(`/v1/quality/duplicates?view=grouped&limit=${DUPLICATES_PAGE}`);
        quality.replaceChildren(h("h2", null, "Data-quality issues by source"),
          barChart(bars, (n) => nf.format(n)), duplicateQueue(queue));
      } catch (e) {
        quality.replaceChildren(h("h2", null, "Data-quality issues by source"), h("p", { class: "empty" }, "Not available."));
        errors.push(e.message);
      }
    })(),
  ]);
  if (errors.length) showError(errors[0]);
}

/** Items of the steward's queue per page of the dashboard. */
const DUPLICATES_PAGE = 10;

/** The steward's queue of suspected duplicates (`view=grouped`): a pair
 *  item links both customers and says why; a name group lists its
 *  customers (company, sources, the fields that differ) with "Different
 *  people" (never-merge for all its pairs, one request) and "Merge
 *  selected"; each item says why it ranks where it does (`why`). A
 *  decision re-resolves, then the dashboard is shown again. */
function duplicateQueue(queue) {
  const total = queue.total || 0;
  const pairs = queue.pairs || 0;
  const intro = h("p", { class: "muted", id: "dup-summary" }, total
    ? `${nf.format(total)} item${total === 1 ? "" : "s"} to decide (${nf.format(pairs)} suspected pair${pairs === 1 ? "" : "s"}; ${nf.format(queue.name_groups || 0)} group${queue.name_groups === 1 ? "" : "s"} of namesakes), most likely first:`
    : "No suspected duplicates.");
  if (!total) return intro;
  const decide = async (path, ids, button) => {
    button.disabled = true;
    try {
      await api(path, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ids }),
      });
      await showDashboard();
    } catch (e) {
      button.disabled = false;
      showError(e.message);
    }
  };
  // Why the item stands where it does (the queue's ranking, in bits).
  const why = (item) => item.why
    ? h("div", { class: "muted dup-why" }, t("span", `Ranked: ${item.why}`))
    : "";
  const render = (item) => {
    if (item.type !== "name_group") {
      return h("li", { class: "dup-pair" },
        h("a", { href: customerHref(item.a) }, item.a), " ~ ", h("a", { href: customerHref(item.b) }, item.b),
        h("span", { class: "meta" }, ` ${item.score.toFixed(1)} bits`),
        h("div", { class: "muted" }, t("span", item.evidence)),
        why(item));
    }
    const customers = item.customers || [];
    const differs = new Set(item.differs || []);
    const rows = customers.map((c) => h("li", null,
      h("label", null, h("input", { type: "checkbox", value: c.id, class: "dup-pick" }), " "),
      h("a", { href: customerHref(c.id) }, c.id), " ",
      t("span", c.company || "no company", { class: "dup-company" }),
      h("span", { class: "meta" }, ` ${(c.sources || []).join(", ")}`),
      h("div", { class: "muted" }, Object.entries(c.fields || {})
        .filter(([f]) => differs.has(f) && f !== "company")
        .map(([f, v]) => t("span", `${f}: ${v}; `)))));
    const li = h("li", { class: "dup-group" });
    const different = h("button", { type: "button", class: "dup-different",
      onclick: () => decide("/v1/customers/never-merge", customers.map((c) => c.id), different) },
      "Different people");
    const merge = h("button", { type: "button", class: "dup-merge", onclick: () => {
      const ids = [...li.querySelectorAll(".dup-pick:checked")].map((b) => b.value);
      if (ids.length < 2) return showError("Tick two or more customers to merge.");
      decide("/v1/customers/merge", ids, merge);
    } }, "Merge selected");
    const kind = (customers[0] && customers[0].id || "").startsWith("org_") ? "organisations" : "customers";
    li.append(
      h("strong", null, `${customers.length} ${kind} named `, t("span", item.name),
        `, at ${item.companies} compan${item.companies === 1 ? "y" : "ies"} — the same?`),
      h("span", { class: "meta" }, ` ${item.score.toFixed(1)} bits; nothing in common but the name (${item.name_bits.toFixed(1)} bits)`),
      why(item),
      h("ul", null, rows), h("div", null, different, " ", merge));
    return li;
  };
  const list = h("ol", { id: "dup-list" }, (queue.items || []).map(render));
  // Paged as the API is: "Show more" appends the next page, and goes
  // away once every item is on the page.
  const more = h("button", { type: "button", id: "dup-more" }, "Show more");
  const showing = () => list.children.length;
  const updateMore = () => {
    more.hidden = showing() >= total;
    more.textContent = `Show more (${nf.format(showing())} of ${nf.format(total)} shown)`;
  };
  more.onclick = async () => {
    more.disabled = true;
    try {
      const next = await api(`/v1/quality/duplicates?view=grouped&limit=${DUPLICATES_PAGE}&offset=${showing()}`);
      list.append(...(next.items || []).map(render));
      if (!(next.items || []).length) more.hidden = true;
      else updateMore();
    } catch (e) {
      showError(e.message);
    } finally {
      more.disabled = false;
    }
  };
  updateMore();
  return h("div", null, intro, list, more);
}

/** A horizontal bar chart as SVG; every bar links into the matching search. */
function barChart(bars, format) {
  if (!bars.length) return h("p", { class: "empty" }, "Nothing to show.");
  const row = 26, labelW = 130, valueW = 80, width = 460, barW = width - labelW - valueW;
  const max = Math.max(...bars.map((b) => b.value), 1);
  const s = { svg: true };
  const svg = h("svg", Object.assign({ viewBox: `0 0 ${width} ${bars.length * row + 4}`, role: "img" }, s));
  bars.forEach((b, i) => {
    const y = i * row + 2;
    const w = Math.max(1, Math.round((b.value / max) * barW));
    const label = b.label.length > 18 ? b.label.slice(0, 17) + "…" : b.label;
    svg.append(h("a", Object.assign({ href: b.href, "data-label": b.label }, s),
      h("title", s, `${b.label}: ${format(b.value)} — open the matching search`),
      h("text", Object.assign({ x: labelW - 6, y: y + 16, "text-anchor": "end", lang: langOf(b.label) }, s), label),
      h("rect", Object.assign({ x: labelW, y: y + 3, width: w, height: row - 8, rx: 3, fill: "#1f5fbf" }, s)),
      h("text", Object.assign({ x: labelW + w + 6, y: y + 16 }, s), format(b.value))));
  });
  return svg;
}

const KIND_COLOURS = {
  note: "#1f5fbf", email: "#d9822b", ticket: "#c23030", task: "#0f9960",
  opportunity: "#7157d9", event: "#29a634", case: "#8f398f",
};

/** Stacked columns (one per 30 days, stacked by kind) with a legend; every
 *  column links to the search of its dates. */
function columnChart(columns) {
  if (!columns.length) return h("p", { class: "empty" }, "Nothing to show.");
  const s = { svg: true };
  const colW = 52, gap = 8, top = 16, chartH = 150, left = 8;
  const width = Math.max(300, left + columns.length * (colW + gap) + 8);
  const max = Math.max(...columns.map((c) => c.value), 1);
  const svg = h("svg", Object.assign({ viewBox: `0 0 ${width} ${top + chartH + 40}`, role: "img" }, s));
  const kinds = new Set();
  columns.forEach((c, i) => {
    const x = left + i * (colW + gap);
    const link = h("a", Object.assign({ href: c.href, "data-label": c.label }, s),
      h("title", s, `${c.label}: ${nf.format(c.value)} interactions — open the matching search`));
    let y = top + chartH;
    for (const seg of c.segments) {
      kinds.add(seg.kind);
      const hgt = (seg.count / max) * chartH;
      y -= hgt;
      link.append(h("rect", Object.assign({ x, y, width: colW, height: Math.max(hgt, 1),
        fill: KIND_COLOURS[seg.kind] || "#5d6b7a" }, s)));
    }
    link.append(h("text", Object.assign({ x: x + colW / 2, y: y - 3, "text-anchor": "middle" }, s), nf.format(c.value)));
    link.append(h("text", Object.assign({ x: x + colW / 2, y: top + chartH + 14, "text-anchor": "middle" }, s), c.label.slice(2)));
    svg.append(link);
  });
  const legend = h("p", { class: "meta" }, [...kinds].map((k) =>
    h("span", { class: "legend" }, h("span", { class: "swatch", "data-kind": k }), k, " ")));
  for (const sw of legend.querySelectorAll(".swatch")) sw.style.background = KIND_COLOURS[sw.dataset.kind] || "#5d6b7a";
  return h("div", null, svg, legend);
}

// ---- wiring ------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  const q = $("#q");
  q.addEventListener("input", onType);
  q.addEventListener("input", onTypeSuggest);
  // Pressing on a name keeps the focus in the box, so the click lands;
  // leaving the box otherwise hides the names.
  $("#suggest").addEventListener("mousedown", (e) => e.preventDefault());
  q.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== q) hideSuggestions(); }, 150));
  $("#searchform").addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(debounce);
    const chosen = document.querySelector("#suggest li[aria-selected=true] a");
    hideSuggestions();
    if (chosen) {
      chosen.click();
      return;
    }
    const p = state();
    const first = document.querySelector("#results .result a[data-open]");
    if (!p.get("customer") && p.get("view") !== "dashboard" && (p.get("q") || "") === q.value && first) {
      first.click();
      return;
    }
    onType();
  });
  document.addEventListener("keydown", (e) => {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
    if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      q.focus();
      q.select();
    } else if (e.key === "Escape" && e.target === q && suggestionsShown()) {
      hideSuggestions();
    } else if (e.key === "Escape" && e.target === q) {
      q.blur();
    } else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && e.target === q && suggestionsShown()) {
      e.preventDefault();
      moveSuggestion(e.key === "ArrowDown" ? 1 : -1);
    } else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && !$("#search-view").hidden &&
      (e.target === q || e.target.closest && e.target.closest("#results"))) {
      e.preventDefault();
      moveSelection(e.key === "ArrowDown" ? 1 : -1);
    }
  });
  // Same-origin links inside the page change the route without a reload.
  document.addEventListener("click", (e) => {
    const a = e.target.closest && e.target.closest("a[href]");
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    const href = a.getAttribute("href") || a.getAttribute("xlink:href");
    if (!href || !href.startsWith("/") || href.startsWith("/v1/")) return;
    e.preventDefault();
    hideSuggestions();
    const url = new URL(href, location.origin);
    history.pushState(null, "", url.pathname + url.search);
    window.scrollTo(0, 0);
    route();
  });
  window.addEventListener("popstate", route);
  wireSignIn();
  // A sign-in link opened in a tab already on this page changes only the hash.
  window.addEventListener("hashchange", () => {
    if (location.hash.startsWith("#signin=")) start();
  });
  start();
});
