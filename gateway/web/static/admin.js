// AlphaMale catalog console (/admin): plain JS, no build step, no external requests.
// The admin token lives in this tab's sessionStorage only and leaves it only as the
// Authorization header of /v1/admin/* calls. Everything the API answers (captions are the
// operator's text) goes on the page as text, never as HTML. Strings live in admin-strings.js.
"use strict";

(() => {
  const STRINGS = window.ALPHAMALE_CONSOLE_STRINGS;
  const TYPES = ["alpha", "beta", "gamma", "delta", "omega"];
  const TOKEN_KEY = "alphamale.admin.token";
  const LANG_KEY = "alphamale.lang"; // the client's key: one language per browser
  const MAX_CAPTION = 200; // the admin API's limit
  const PARALLEL_UPLOADS = 2;
  const GLANCE_EVERY_MS = 30000;
  const MAX_WORKERS = 8;

  const $ = (id) => document.getElementById(id);
  const state = {
    lang: "en", type: "alpha", images: [], counts: {}, loading: false, staged: [], uploading: false,
    glance: null, glanceError: null, models: null, modelStatus: {}, busyModels: new Set(),
    timer: null, nextId: 1,
  };

  // --- language ----------------------------------------------------------------------------

  function t(key, values = {}) {
    const text = (STRINGS[state.lang] || STRINGS.en)[key] ?? STRINGS.en[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
  }

  function preferredLanguage() {
    const stored = localStorage.getItem(LANG_KEY);
    if (stored && stored in STRINGS) return stored;
    for (const tag of navigator.languages || [navigator.language || "en"]) {
      const base = tag.toLowerCase().split("-")[0];
      if (base in STRINGS) return base;
    }
    return "en";
  }

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.title = t("doc.title");
    for (const element of document.querySelectorAll("[data-i18n]")) {
      element.textContent = t(element.dataset.i18n);
    }
    $("lang-switch").textContent = t("lang.other");
    $("lang-switch").lang = state.lang === "ko" ? "en" : "ko";
    if (!$("signed-in").hidden) renderAll();
  }

  function switchLanguage() {
    state.lang = state.lang === "ko" ? "en" : "ko";
    localStorage.setItem(LANG_KEY, state.lang);
    applyLanguage();
  }

  const number = (value, digits = 1) =>
    new Intl.NumberFormat(state.lang, { maximumFractionDigits: digits }).format(value);
  const typeName = (slug) => t(`type.${slug}`);

  // --- small helpers -----------------------------------------------------------------------

  // An element with a class, text and attributes; children appended in order.
  function el(tag, { className, text, attrs } = {}, ...children) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    for (const [name, value] of Object.entries(attrs || {})) element.setAttribute(name, value);
    element.append(...children.filter(Boolean));
    return element;
  }

  function button(text, onClick, className = "button compact") {
    const element = el("button", { className, text, attrs: { type: "button" } });
    element.addEventListener("click", onClick);
    return element;
  }

  function say(id, text, kind = "") {
    const element = $(id);
    element.textContent = text;
    element.className = element.className.replace(/\s*\b(error|done|pending)\b/g, "");
    if (kind) element.classList.add(kind);
  }

  function notice(id, text) {
    $(id).textContent = text || "";
    $(id).hidden = !text;
  }

  // --- the admin API -----------------------------------------------------------------------

  const token = () => sessionStorage.getItem(TOKEN_KEY) || "";
  const authorization = () => ({ Authorization: `Bearer ${token()}` });

  class ApiError extends Error {
    constructor(status, problem) {
      super(problem?.detail || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  // What went wrong, for the operator: the problem's detail and code, or why there is none.
  function problemText(error) {
    if (!error || error.status === 0) return t("error.offline");
    const problem = error.problem;
    if (problem && problem.detail) return t("error.problem", { detail: problem.detail, code: problem.code || error.status });
    return t("error.status", { status: error.status });
  }

  async function api(method, path, body) {
    const headers = authorization();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method, headers, cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, null);
    }
    if (response.ok) return response.status === 204 ? null : response.json();
    const problem = await response.json().catch(() => null);
    const error = new ApiError(response.status, problem);
    if (response.status === 401) refused(error);
    throw error;
  }

  // --- signing in and out ------------------------------------------------------------------

  function refused(error) {
    signOut(t("signIn.refused", { detail: error.problem?.detail || "unauthorized" }));
  }

  function signOut(message = "") {
    sessionStorage.removeItem(TOKEN_KEY);
    clearInterval(state.timer);
    state.timer = null;
    for (const entry of state.staged) entry.xhr?.abort();
    Object.assign(state, {
      images: [], counts: {}, staged: [], uploading: false, glance: null, glanceError: null,
      models: null, modelStatus: {}, busyModels: new Set(),
    });
    $("signed-in").hidden = true;
    $("sign-out").hidden = true;
    $("sign-in").hidden = false;
    notice("sign-in-notice", message);
    $("token").focus();
  }

  async function submitToken(event) {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) {
      notice("sign-in-notice", t("signIn.empty"));
      $("token").focus();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    await openConsole();
  }

  // The glance is the token's check: cheap, and it asks nothing of the model server.
  async function openConsole() {
    if ($("token-submit").getAttribute("aria-disabled") === "true") return;
    $("token-submit").setAttribute("aria-disabled", "true");
    try {
      state.glance = await api("GET", "/v1/admin/glance");
    } catch (error) {
      if (error.status !== 401) signOut(problemText(error));
      return;
    } finally {
      $("token-submit").removeAttribute("aria-disabled");
    }
    notice("sign-in-notice", "");
    $("sign-in").hidden = true;
    $("signed-in").hidden = false;
    $("sign-out").hidden = false;
    renderAll();
    $("console-title").focus();
    state.timer = setInterval(() => {
      if (document.visibilityState === "visible") loadGlance();
    }, GLANCE_EVERY_MS);
    loadCatalog();
    loadModels();
  }

  function renderAll() {
    renderGlance();
    renderTabs();
    renderCatalog();
    renderStaged();
    renderModels();
  }

  // --- the glance --------------------------------------------------------------------------

  async function loadGlance() {
    try {
      state.glance = await api("GET", "/v1/admin/glance");
      state.glanceError = null;
    } catch (error) {
      if (error.status === 401) return;
      state.glanceError = problemText(error);
    }
    renderGlance();
  }

  function stat(label, value, detail) {
    return el("div", { className: "stat" },
      el("dt", { text: label }), el("dd", { className: "value", text: value }),
      detail ? el("dd", { className: "small", text: detail }) : null);
  }

  function renderGlance() {
    notice("glance-notice", state.glanceError);
    const g = state.glance;
    if (!g) return;
    const minutes = number(g.window_s / 60);
    $("glance-window").textContent = g.since_start
      ? t("glance.sinceStart", { minutes })
      : t("glance.window", { minutes });
    const admission = g.admission
      ? t("glance.admissionValue", { running: g.admission.in_flight, bound: g.admission.bound })
      : t("glance.off");
    const admissionDetail = g.admission
      ? t(g.admission.shedding ? "glance.shedding" : "glance.waiting", { waiting: g.admission.waiting })
      : "";
    $("glance-stats").replaceChildren(
      stat(t("glance.perMinute"), number(g.analyses_per_minute), t("glance.count", { count: g.analyses })),
      stat(t("glance.p50"), g.p50_ms === null ? "–" : t("glance.ms", { ms: number(g.p50_ms, 0) }), t("glance.p50Detail")),
      stat(t("glance.rateLimited"), number(g.refused.rate_limited ?? 0, 0), "429 rate_limited"),
      stat(t("glance.overloaded"), number(g.refused.overloaded ?? 0, 0), "503 overloaded"),
      stat(t("glance.serverErrors"), number(g.server_errors, 0), t("glance.serverErrorsDetail")),
      stat(t("glance.admission"), admission, admissionDetail),
      stat(t("glance.sinceStartTotal"), number(g.analyses_since_start, 0),
        t("glance.uptime", { minutes: number(g.uptime_s / 60) })),
    );
    const outcomes = Object.entries(g.outcomes)
      .map(([outcome, count]) => `${TYPES.includes(outcome) ? typeName(outcome) : outcome} ${count}`);
    const models = Object.entries(g.model_p50_ms).map(([model, ms]) => `${model} ${number(ms, 0)} ms`);
    $("glance-outcomes").replaceChildren(
      el("span", { text: t("glance.outcomes", { list: outcomes.join(" · ") || "–" }) }),
      el("br"),
      el("span", { text: t("glance.models", { list: models.join(" · ") || "–" }) }),
    );
  }

  // --- the catalog -------------------------------------------------------------------------

  function renderTabs() {
    const tabs = TYPES.map((slug) => {
      const selected = slug === state.type;
      const count = state.counts[slug];
      const tab = el("button", {
        className: "button compact tab",
        text: count === undefined ? typeName(slug) : `${typeName(slug)} (${count})`,
        attrs: {
          type: "button", role: "tab", id: `tab-${slug}`, "data-type": slug,
          "aria-selected": String(selected), "aria-controls": "catalog-panel",
          tabindex: selected ? "0" : "-1",
        },
      });
      tab.addEventListener("click", () => selectType(slug));
      return tab;
    });
    $("type-tabs").replaceChildren(...tabs);
    $("catalog-panel").setAttribute("aria-labelledby", `tab-${state.type}`);
    $("drop-type").textContent = t("upload.into", { type: typeName(state.type) });
  }

  function tabKeys(event) {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const next = TYPES[(TYPES.indexOf(state.type) + step + TYPES.length) % TYPES.length];
    selectType(next);
    $(`tab-${next}`).focus();
  }

  function selectType(slug) {
    if (slug === state.type && state.images.length) return;
    state.type = slug;
    state.images = [];
    renderTabs();
    renderCatalog();
    loadCatalog();
  }

  async function loadCatalog() {
    const slug = state.type;
    state.loading = true;
    say("catalog-status", t("catalog.loading"), "pending");
    try {
      const images = await api("GET", `/v1/admin/catalog?type=${slug}`);
      if (slug !== state.type) return; // another tab was chosen meanwhile
      images.sort((a, b) => b.created_at.localeCompare(a.created_at));
      state.images = images;
      state.counts[slug] = images.length;
      say("catalog-status", images.length ? "" : t("catalog.empty", { type: typeName(slug) }));
    } catch (error) {
      if (error.status !== 401 && slug === state.type) say("catalog-status", problemText(error), "error");
      return;
    } finally {
      state.loading = false;
    }
    renderTabs();
    renderCatalog();
  }

  function renderCatalog() {
    $("catalog-grid").replaceChildren(...state.images.map(card));
  }

  function card(image) {
    const thumb = el("img", {
      className: "thumb",
      attrs: { src: image.url, alt: image.caption || t("catalog.noCaption"), loading: "lazy", decoding: "async" },
    });
    thumb.addEventListener("error", () => thumb.classList.add("broken"));
    const badges = el("p", { className: "badges" });
    if (typeof image.has_face === "boolean") {
      badges.append(el("span", {
        className: `badge ${image.has_face ? "face" : "no-face"}`,
        text: t(image.has_face ? "catalog.face" : "catalog.noFace"),
      }));
    }
    if (image.demo) badges.append(el("span", { className: "badge", text: t("catalog.demo") }));
    const when = new Date(image.created_at);
    const actions = el("div", { className: "card-actions" });
    const confirm = el("div", { className: "confirm", attrs: { role: "group" } });
    confirm.hidden = true;
    const question = el("p", { text: t("catalog.confirm", { caption: image.caption || t("catalog.noCaption") }) });
    const yes = button(t("catalog.deleteYes"), () => remove(image, yes, confirm), "button compact danger");
    const no = button(t("catalog.deleteNo"), () => {
      confirm.hidden = true;
      actions.hidden = false;
      ask.focus();
    });
    confirm.append(question, el("div", { className: "confirm-buttons" }, yes, no));
    const ask = button(t("catalog.delete"), () => {
      actions.hidden = true;
      confirm.hidden = false;
      no.focus();
    });
    ask.setAttribute("aria-label", t("catalog.deleteNamed", { caption: image.caption || image.id }));
    actions.append(ask);
    return el("li", { className: "card", attrs: { "data-id": image.id } },
      thumb,
      el("div", { className: "card-body" },
        el("p", { className: "caption", text: image.caption || t("catalog.noCaption") }),
        el("p", { className: "small" },
          el("time", { text: when.toLocaleString(state.lang), attrs: { datetime: image.created_at } })),
        badges.childElementCount ? badges : null,
        actions, confirm));
  }

  async function remove(image, yes, confirm) {
    if (yes.getAttribute("aria-disabled") === "true") return;
    yes.setAttribute("aria-disabled", "true");
    yes.textContent = t("catalog.deleting");
    const caption = image.caption || image.id;
    try {
      await api("DELETE", `/v1/admin/catalog/${encodeURIComponent(image.id)}`);
    } catch (error) {
      if (error.status === 401) return;
      if (error.status !== 404) {
        yes.removeAttribute("aria-disabled");
        yes.textContent = t("catalog.deleteYes");
        say("catalog-status", t("catalog.deleteFailed", { caption, problem: problemText(error) }), "error");
        confirm.querySelector("button:last-child").focus();
        return;
      }
    }
    state.images = state.images.filter((other) => other.id !== image.id);
    if (image.type in state.counts) state.counts[image.type] = Math.max(0, state.counts[image.type] - 1);
    renderTabs();
    renderCatalog();
    say("catalog-status", t("catalog.deleted", { caption }), "done");
    $("catalog-panel").focus();
  }

  // --- uploads: staged with a caption and a type, then sent a few at a time ------------------

  function stage(files) {
    for (const file of files) {
      state.staged.push({
        id: state.nextId++, file, type: state.type, caption: file.name.slice(0, MAX_CAPTION),
        status: "ready", progress: 0, message: "", xhr: null, row: null,
      });
    }
    renderStaged();
  }

  function renderStaged() {
    $("staged").hidden = state.staged.length === 0;
    $("upload-list").replaceChildren(...state.staged.map(uploadRow));
    const waiting = state.staged.filter((entry) => entry.status === "ready" || entry.status === "failed").length;
    $("upload-start").textContent = t(waiting === 1 ? "upload.startOne" : "upload.start", { count: waiting });
    $("upload-start").hidden = waiting === 0;
    $("upload-start").setAttribute("aria-disabled", String(state.uploading));
    $("upload-clear").setAttribute("aria-disabled", String(state.uploading));
  }

  function uploadRow(entry) {
    const editable = !state.uploading && (entry.status === "ready" || entry.status === "failed");
    const caption = el("input", {
      attrs: { type: "text", maxlength: String(MAX_CAPTION), id: `caption-${entry.id}` },
    });
    caption.value = entry.caption;
    caption.disabled = !editable;
    caption.addEventListener("input", () => { entry.caption = caption.value; });
    const type = el("select", { attrs: { id: `type-${entry.id}` } },
      ...TYPES.map((slug) => el("option", { text: typeName(slug), attrs: { value: slug } })));
    type.value = entry.type;
    type.disabled = !editable;
    type.addEventListener("change", () => { entry.type = type.value; });
    const bar = el("progress", {
      attrs: { max: "100", value: String(Math.round(entry.progress * 100)), "aria-label": t("upload.progress", { name: entry.file.name }) },
    });
    const status = el("p", { className: `upload-status ${entry.status}`, text: statusText(entry) });
    const row = el("li", { className: "upload", attrs: { "data-status": entry.status } },
      el("p", { className: "file-name", text: entry.file.name }),
      el("div", { className: "upload-fields" },
        el("label", { className: "field" }, el("span", { text: t("upload.caption") }), caption),
        el("label", { className: "field" }, el("span", { text: t("upload.type") }), type)),
      bar, status,
      editable ? button(t("upload.remove"), () => unstage(entry)) : null);
    entry.row = { row, bar, status };
    return row;
  }

  function statusText(entry) {
    const size = t("upload.size", { kb: number(entry.file.size / 1024, 0) });
    switch (entry.status) {
      case "uploading":
        return entry.progress >= 1 ? t("upload.processing") : t("upload.sending", { percent: Math.round(entry.progress * 100) });
      case "done": return t("upload.done", { type: typeName(entry.type) });
      case "failed": return entry.message;
      default: return t("upload.ready", { size });
    }
  }

  function update(entry) {
    if (!entry.row) return;
    entry.row.row.dataset.status = entry.status;
    entry.row.bar.value = Math.round(entry.progress * 100);
    entry.row.status.className = `upload-status ${entry.status}`;
    entry.row.status.textContent = statusText(entry);
  }

  function unstage(entry) {
    state.staged = state.staged.filter((other) => other !== entry);
    renderStaged();
  }

  function clearStaged() {
    if (state.uploading) return;
    state.staged = [];
    renderStaged();
    $("choose-files").focus();
  }

  function send(entry) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      entry.xhr = xhr;
      xhr.open("POST", "/v1/admin/catalog");
      xhr.setRequestHeader("Authorization", authorization().Authorization);
      xhr.responseType = "json"; // problem+json is JSON too
      xhr.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        entry.progress = event.loaded / event.total;
        update(entry);
      });
      xhr.addEventListener("load", () => resolve({ status: xhr.status, body: xhr.response }));
      xhr.addEventListener("error", () => resolve({ status: 0, body: null }));
      xhr.addEventListener("abort", () => resolve({ status: -1, body: null }));
      const form = new FormData();
      form.append("type", entry.type);
      form.append("caption", entry.caption.trim().slice(0, MAX_CAPTION));
      form.append("image", entry.file, entry.file.name);
      xhr.send(form);
    });
  }

  async function uploadOne(entry) {
    entry.status = "uploading";
    entry.progress = 0;
    update(entry);
    const { status, body } = await send(entry);
    entry.xhr = null;
    if (status === -1) return; // aborted: signed out
    if (status === 201) {
      entry.status = "done";
      entry.progress = 1;
      if (body.type in state.counts) state.counts[body.type] += 1;
      if (body.type === state.type && !state.images.some((image) => image.id === body.id)) {
        state.images.unshift(body);
        renderCatalog();
      }
    } else {
      entry.status = "failed";
      entry.message = problemText(new ApiError(status, body && typeof body === "object" ? body : null));
      if (status === 401) refused(new ApiError(status, body));
    }
    update(entry);
  }

  async function startUploads() {
    if (state.uploading) return;
    const queue = state.staged.filter((entry) => entry.status === "ready" || entry.status === "failed");
    if (!queue.length) return;
    state.uploading = true;
    renderStaged();
    say("catalog-status", t("upload.running", { count: queue.length }), "pending");
    const worker = async () => {
      while (queue.length && state.uploading) await uploadOne(queue.shift());
    };
    await Promise.all(Array.from({ length: PARALLEL_UPLOADS }, worker));
    if (!state.uploading) return; // signed out meanwhile
    state.uploading = false;
    const done = state.staged.filter((entry) => entry.status === "done").length;
    const failed = state.staged.filter((entry) => entry.status === "failed").length;
    renderStaged();
    renderTabs();
    say("catalog-status", t(failed ? "upload.summaryFailed" : "upload.summary", { done, failed }), failed ? "error" : "done");
  }

  function watchDrops() {
    const zone = $("drop-zone");
    for (const name of ["dragenter", "dragover"]) {
      zone.addEventListener(name, (event) => {
        event.preventDefault();
        zone.classList.add("over");
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      if (event.dataTransfer?.files?.length) stage(event.dataTransfer.files);
    });
    // A file dropped beside the zone must not open in the tab (and leave the console).
    for (const name of ["dragover", "drop"]) {
      window.addEventListener(name, (event) => event.preventDefault());
    }
  }

  // --- the models --------------------------------------------------------------------------

  async function loadModels() {
    try {
      state.models = await api("GET", "/v1/admin/models");
      if (state.modelStatus[""]) delete state.modelStatus[""];
    } catch (error) {
      if (error.status === 401) return;
      state.modelStatus[""] = { kind: "error", text: problemText(error) };
    }
    renderModels();
  }

  function renderModels() {
    const general = state.modelStatus[""];
    say("models-status", general ? general.text : "", general ? general.kind : "");
    if (!state.models) {
      $("models-list").replaceChildren();
      return;
    }
    $("models-list").replaceChildren(...state.models.map(modelCard));
  }

  function modelCard(model) {
    const busy = state.busyModels.has(model.name);
    const status = state.modelStatus[model.name];
    const versions = [...model.versions].sort((a, b) => a.modelVersion.localeCompare(b.modelVersion, "en", { numeric: true }));
    return el("article", { className: "model", attrs: { "data-model": model.name, "aria-busy": String(busy) } },
      el("h3", { text: model.name }),
      el("p", { className: "small", text: t("models.default", { version: model.default ?? "?" }) }),
      el("ul", { className: "versions" }, ...versions.map((version) => versionRow(model, version, busy))),
      el("p", {
        className: `model-status ${status ? status.kind : ""}`,
        text: status ? status.text : "",
        attrs: { role: "status", "aria-live": "polite" },
      }));
  }

  function versionRow(model, version, busy) {
    const name = model.name;
    const versionName = version.modelVersion;
    const isDefault = versionName === model.default;
    const workers = version.workers || [];
    const id = `${name}-${versionName}`.replace(/[^A-Za-z0-9_-]/g, "_");
    const bound = (label, value, key) => {
      const input = el("input", {
        attrs: {
          type: "number", min: "0", max: String(MAX_WORKERS), step: "1", value: String(value ?? 0),
          id: `${key}-${id}`, inputmode: "numeric",
        },
      });
      input.disabled = busy;
      return el("label", { className: "field bound" }, el("span", { text: label }), input);
    };
    const min = bound(t("models.min"), version.minWorkers, "min");
    const max = bound(t("models.max"), version.maxWorkers, "max");
    const scale = button(t("models.scale"), () =>
      scaleVersion(name, versionName, min.querySelector("input").value, max.querySelector("input").value));
    const actions = el("div", { className: "version-actions" }, min, max, scale);
    if (!isDefault) actions.append(button(t("models.makeDefault"), () => makeDefault(name, versionName)));
    for (const control of actions.querySelectorAll("button")) control.setAttribute("aria-disabled", String(busy));
    return el("li", { className: "version", attrs: { "data-version": versionName } },
      el("p", { className: "version-name" },
        el("span", { text: t("models.version", { version: versionName }) }),
        isDefault ? el("span", { className: "badge default", text: t("models.isDefault") }) : null),
      el("p", { className: "workers" },
        el("span", { className: "small", text: t("models.workers", { count: workers.length }) }),
        ...workers.map((worker) => el("span", {
          className: `badge worker ${worker.status === "READY" ? "ready" : ""}`,
          text: worker.status || "?",
          attrs: { title: worker.id || "" },
        }))),
      actions);
  }

  async function manage(name, pending, done, call) {
    if (state.busyModels.has(name)) return;
    state.busyModels.add(name);
    state.modelStatus[name] = { kind: "pending", text: pending };
    renderModels();
    try {
      await call();
      state.modelStatus[name] = { kind: "done", text: done };
    } catch (error) {
      if (error.status === 401) return;
      state.modelStatus[name] = { kind: "error", text: problemText(error) };
    } finally {
      state.busyModels.delete(name);
    }
    await loadModels();
  }

  function makeDefault(name, version) {
    manage(name, t("models.pendingDefault", { name, version }), t("models.doneDefault", { name, version }),
      () => api("PUT", `/v1/admin/models/${name}/default`, { version }));
  }

  function scaleVersion(name, version, minValue, maxValue) {
    const min = Number(minValue);
    const max = Number(maxValue);
    const valid = (n) => Number.isInteger(n) && n >= 0 && n <= MAX_WORKERS;
    if (!valid(min) || !valid(max) || max < min) {
      state.modelStatus[name] = { kind: "error", text: t("models.badBounds", { most: MAX_WORKERS }) };
      renderModels();
      return;
    }
    const values = { name, version, min, max };
    manage(name, t("models.pendingScale", values), t("models.doneScale", values),
      () => api("PUT", `/v1/admin/models/${name}/workers`, { min_workers: min, max_workers: max, version }));
  }

  // --- start -------------------------------------------------------------------------------

  function start() {
    state.lang = preferredLanguage();
    applyLanguage();
    $("lang-switch").addEventListener("click", switchLanguage);
    $("sign-out").addEventListener("click", () => signOut(t("signIn.signedOut")));
    $("token-form").addEventListener("submit", submitToken);
    $("glance-refresh").addEventListener("click", loadGlance);
    $("models-refresh").addEventListener("click", loadModels);
    $("type-tabs").addEventListener("keydown", tabKeys);
    $("choose-files").addEventListener("click", () => $("file-input").click());
    $("file-input").addEventListener("change", () => {
      stage($("file-input").files);
      $("file-input").value = "";
    });
    $("upload-start").addEventListener("click", startUploads);
    $("upload-clear").addEventListener("click", clearStaged);
    watchDrops();
    if (token()) openConsole();
    else $("token").focus();
  }

  start();
})();
