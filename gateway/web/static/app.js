// AlphaMale mobile web client: plain JS, no build step, no external requests.
// Views: main -> image -> (loading) -> result | problem; each is a history entry, a result has
// its own address (/r/{id}) that reloads to the same result. Strings live in strings.js; groups
// (/g/{code}: the group, "you vs X") in groups.js.
"use strict";

(() => {
  const STRINGS = window.ALPHAMALE_STRINGS;
  const MBTI = [
    "INTJ", "INTP", "ENTJ", "ENTP", "INFJ", "INFP", "ENFJ", "ENFP",
    "ISTJ", "ISFJ", "ESTJ", "ESFJ", "ISTP", "ISFP", "ESTP", "ESFP",
  ];
  const MIN_AGE = 14;
  const MAX_AGE = 120;
  const MIN_SIDE = 48; // px: the service refuses smaller photos (image_too_small)
  const MAX_BYTES = 10 * 1024 * 1024;
  const UPLOAD_SIDE = 1600; // px: the service keeps at most 2048 and looks at less
  const TIMEOUT_MS = 60000;
  const PARTS = ["face", "t_zone", "jaw"];
  const NO_COLOUR = "#c8c8d2";
  const BUSY = new Set(["overloaded", "rate_limited", "model_unavailable"]);
  const UNREADABLE = new Set([
    "unsupported_media_type", "image_corrupt", "image_unprocessable", "image_too_large",
    "image_too_many_pixels",
  ]);
  const MAX_WAIT_S = 30;
  const MAX_PHOTOS = 3; // selfies of one person an analysis combines
  const RESULT_PATH = /^\/r\/([A-Za-z0-9_-]+)\/?$/;
  const GROUP_PATH = /^\/g\/([A-Za-z0-9_-]+)\/?$/;
  const MINE_PATH = /^\/me\/?$/;
  const DAY_MS = 86400000;

  const $ = (id) => document.getElementById(id);
  const CONSENT_KEY = "alphamale.consent"; // the consent version this device agreed to
  const state = {
    lang: "en", view: "main", upload: null, photoUrl: null, key: null,
    result: null, deleteToken: null, problem: null, pending: 0, consent: null,
    more: [], // selfies after the first: {upload, url}
  };

  // --- language ----------------------------------------------------------------------------

  function t(key, values = {}) {
    const text = (STRINGS[state.lang] || STRINGS.en)[key] ?? STRINGS.en[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
  }

  function preferredLanguage() {
    const stored = localStorage.getItem("alphamale.lang");
    if (stored && stored in STRINGS) return stored;
    for (const tag of navigator.languages || [navigator.language || "en"]) {
      const base = tag.toLowerCase().split("-")[0];
      if (base in STRINGS) return base;
    }
    return "en";
  }

  function typeName(type) {
    return state.lang === "ko" ? type.name_ko : type.name;
  }

  function slugName(slug) {
    return slug ? t(`type.${slug}`) : "–";
  }

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.title = t("doc.title");
    for (const element of document.querySelectorAll("[data-i18n]")) {
      element.textContent = t(element.dataset.i18n);
    }
    for (const element of document.querySelectorAll("[data-i18n-alt]")) {
      element.alt = t(element.dataset.i18nAlt);
    }
    for (const element of document.querySelectorAll("[data-i18n-aria-label]")) {
      element.setAttribute("aria-label", t(element.dataset.i18nAriaLabel));
    }
    for (const element of document.querySelectorAll("[data-i18n-placeholder]")) {
      element.placeholder = t(element.dataset.i18nPlaceholder);
    }
    const other = state.lang === "ko" ? "en" : "ko";
    $("lang-switch").textContent = t("lang.other");
    $("lang-switch").lang = other;
    fillDateParts();
    if (state.view === "result" && state.result) renderResult(state.result);
    if (state.view === "problem" && state.problem) renderProblem(state.problem);
    if (state.view === "consent" && state.consent) renderConsent();
    if (state.view === "image") renderThumbs();
    if (state.view === "mine") renderMine();
    renderMineLink();
    if (state.view === "group" || state.view === "versus") groups.render();
  }

  function switchLanguage() {
    state.lang = state.lang === "ko" ? "en" : "ko";
    localStorage.setItem("alphamale.lang", state.lang);
    applyLanguage();
  }

  // --- small helpers -----------------------------------------------------------------------

  function show(name) {
    state.view = name;
    if (name === "main") renderMineLink();
    for (const view of document.querySelectorAll(".view")) {
      view.hidden = view.dataset.view !== name;
    }
    window.scrollTo(0, 0);
    const heading = document.querySelector(`.view[data-view="${name}"] h1`);
    if (heading) heading.focus({ preventScroll: true });
  }

  // A new history entry for a view (back returns to the one before); results get their address.
  function go(name, url = "/") {
    history.pushState({ view: name }, "", url);
    show(name);
  }

  // What an analysis leads to takes the consent step's place in the history, when it came
  // from there: back from a result returns to the photo's form, not to the consent.
  function arrive(name, url = "/") {
    if (history.state && history.state.view === "consent") {
      history.replaceState({ view: name }, "", url);
      show(name);
    } else {
      go(name, url);
    }
  }

  function notify(element, text, kind = "error") {
    element.textContent = text || "";
    element.hidden = !text;
    element.classList.toggle("success", kind === "success");
    element.classList.toggle("info", kind === "info");
  }

  function clearNotices() {
    for (const id of ["main-notice", "image-notice", "result-notice", "groups-notice", "group-notice"]) {
      notify($(id), "");
    }
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs https
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)]
      .join("-");
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function remember(kind, id, value) {
    try {
      const store = kind === "token" ? localStorage : sessionStorage;
      if (value === null) store.removeItem(`alphamale.${kind}.${id}`);
      else store.setItem(`alphamale.${kind}.${id}`, value);
    } catch (error) {
      // storage full or disabled: the result still works, without the photo after a reload
    }
  }

  function recall(kind, id) {
    const store = kind === "token" ? localStorage : sessionStorage;
    return store.getItem(`alphamale.${kind}.${id}`);
  }

  // --- main view: pick a photo, checked here before any form ---------------------------------

  // The format from the file's first bytes, as the service decides it (the name means nothing).
  async function sniff(file) {
    const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    const ascii = (from, to) => String.fromCharCode(...head.slice(from, to));
    if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "jpeg";
    if (ascii(1, 4) === "PNG" && head[0] === 0x89) return "png";
    if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
    const brands = ["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"];
    if (ascii(4, 8) === "ftyp" && brands.includes(ascii(8, 12))) return "heif";
    return null;
  }

  async function decodable(file) {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (error) {
      return null;
    }
  }

  // A phone photo is 12 MP: send a ~1600 px JPEG instead (upright: EXIF orientation applied).
  async function downscale(bitmap, file, kind) {
    const scale = Math.min(1, UPLOAD_SIDE / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && kind === "jpeg") return file;
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
    return blob || file;
  }

  // The first photo opens the form; on the form, another selfie joins it (up to three).
  async function pick(input) {
    const file = input.files && input.files[0];
    input.value = ""; // picking the same file again still fires "change"
    if (!file) return;
    const adding = state.view === "image" && Boolean(state.upload);
    clearNotices();
    const notice = adding ? $("image-notice") : $("main-notice");
    const refuse = (key, values = {}) => notify(notice, t(key, { name: file.name, ...values }));
    const kind = await sniff(file);
    if (!kind) return refuse("pick.notPhoto");
    const bitmap = await decodable(file);
    if (!bitmap && kind !== "heif") return refuse("pick.unreadable");
    if (!bitmap && file.size > MAX_BYTES) return refuse("pick.tooBig");
    if (bitmap && Math.min(bitmap.width, bitmap.height) < MIN_SIDE) {
      return refuse("pick.tooSmall", { width: bitmap.width, height: bitmap.height, min: MIN_SIDE });
    }
    // HEIC outside Safari: no preview here, the service decodes it.
    const upload = bitmap ? await downscale(bitmap, file, kind) : file;
    if (bitmap) bitmap.close();
    if (adding) return addSelfie(upload, Boolean(bitmap));
    forgetMore();
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    Object.assign(state, { upload, key: null, photoUrl: bitmap ? URL.createObjectURL(upload) : null });
    $("preview").hidden = !state.photoUrl;
    $("preview-missing").hidden = Boolean(state.photoUrl);
    if (state.photoUrl) $("preview").src = state.photoUrl;
    else $("preview").removeAttribute("src");
    updateAnalyse();
    renderThumbs();
    go("image");
  }

  // --- more selfies: up to two beside the first, typed together for a steadier answer --------

  function addSelfie(upload, previewable) {
    if (1 + state.more.length >= MAX_PHOTOS) return;
    state.more.push({ upload, url: previewable ? URL.createObjectURL(upload) : null });
    state.key = null; // another set of photos, another request
    renderThumbs();
  }

  function removeSelfie(index) {
    const [gone] = state.more.splice(index, 1);
    if (gone && gone.url) URL.revokeObjectURL(gone.url);
    state.key = null;
    renderThumbs();
  }

  function forgetMore() {
    for (const entry of state.more) if (entry.url) URL.revokeObjectURL(entry.url);
    state.more = [];
  }

  function thumb(url, n, onRemove) {
    const item = document.createElement("li");
    const image = document.createElement("img");
    image.alt = t("image.selfieAlt", { n });
    if (url) image.src = url;
    item.append(image);
    if (onRemove) {
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", t("image.remove", { n }));
      remove.addEventListener("click", onRemove);
      item.append(remove);
    }
    return item;
  }

  function renderThumbs() {
    const count = 1 + state.more.length;
    const items = state.more.length
      ? [thumb(state.photoUrl, 1, null),
        ...state.more.map((entry, i) => thumb(entry.url, i + 2, () => removeSelfie(i)))]
      : [];
    $("thumbs").replaceChildren(...items);
    $("thumbs").hidden = !items.length;
    $("more-buttons").hidden = count >= MAX_PHOTOS;
    const lead = count >= MAX_PHOTOS ? "image.moreFull" : count === 2 ? "image.moreLeadOne" : "image.moreLead";
    $("more-lead").textContent = t(lead);
  }

  // --- image view: MBTI, birth date, Analyse -------------------------------------------------

  function option(value, label) {
    const element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    return element;
  }

  function fillSelect(select, placeholder, entries) {
    const value = select.value;
    select.replaceChildren(option("", placeholder), ...entries.map(([v, label]) => option(v, label)));
    if (entries.some(([v]) => v === value)) select.value = value;
  }

  function latestBirthDate() {
    const today = new Date();
    return new Date(today.getFullYear() - MIN_AGE, today.getMonth(), today.getDate());
  }

  function fillDateParts() {
    const latest = latestBirthDate().getFullYear();
    const years = [];
    for (let year = latest; year >= latest - (MAX_AGE - MIN_AGE); year -= 1) {
      years.push([String(year), state.lang === "ko" ? `${year}년` : String(year)]);
    }
    const monthName = new Intl.DateTimeFormat(state.lang, { month: "long" });
    const months = Array.from({ length: 12 }, (_, i) => [
      String(i + 1).padStart(2, "0"), monthName.format(new Date(2000, i, 1)),
    ]);
    const year = Number($("birth-year").value) || 2000; // a leap year: 29 February stays possible
    const month = Number($("birth-month").value) || 1;
    const length = new Date(year, month, 0).getDate();
    const days = Array.from({ length }, (_, i) => [
      String(i + 1).padStart(2, "0"), state.lang === "ko" ? `${i + 1}일` : String(i + 1),
    ]);
    fillSelect($("birth-year"), t("image.yearChoose"), years);
    fillSelect($("birth-month"), t("image.monthChoose"), months);
    fillSelect($("birth-day"), t("image.dayChoose"), days);
    fillSelect($("mbti"), t("image.mbtiChoose"), MBTI.map((code) => [code, code]));
  }

  function birthDate() {
    const parts = [$("birth-year").value, $("birth-month").value, $("birth-day").value];
    return parts.every(Boolean) ? parts.join("-") : "";
  }

  function tooYoung() {
    const value = birthDate();
    if (!value) return false;
    const [year, month, day] = value.split("-").map(Number);
    return new Date(year, month - 1, day) > latestBirthDate();
  }

  function missingMessage() {
    const mbti = !$("mbti").value;
    const birth = !birthDate();
    if (mbti && birth) return t("image.needBoth");
    if (mbti) return t("image.needMbti");
    if (birth) return t("image.needBirth");
    if (tooYoung()) return t("image.tooYoung");
    return "";
  }

  function updateAnalyse(event) {
    if (event && event.target.dataset.part) fillDateParts(); // days follow the month and year
    state.key = null; // new inputs, new request: a new Idempotency-Key
    const message = missingMessage();
    $("analyse-button").setAttribute("aria-disabled", String(Boolean(message)));
    // The age rule is said as soon as it applies; the rest only when Analyse is pressed.
    notify($("image-notice"), tooYoung() ? t("image.tooYoung") : "");
  }

  async function onAnalyse() {
    const message = missingMessage();
    if (message) {
      notify($("image-notice"), message);
      return;
    }
    const consent = await loadConsent();
    if (!consent) return notify($("image-notice"), t("consent.unavailable"));
    if (agreedVersion() === consent.version) return analyse();
    askConsent();
  }

  // --- consent: its own step before the first analysis, and again when its text changes -----

  async function loadConsent() {
    if (state.consent) return state.consent;
    try {
      const response = await fetch("/v1/consent", { headers: { Accept: "application/json" } });
      if (response.ok) state.consent = await response.json();
    } catch (error) {
      return null;
    }
    return state.consent;
  }

  function agreedVersion() {
    try {
      return localStorage.getItem(CONSENT_KEY);
    } catch (error) {
      return null;
    }
  }

  function askConsent() {
    $("consent-box").checked = false; // never ticked for the person
    notify($("consent-notice"), "");
    go("consent");
    renderConsent();
  }

  // The text as the service words it (purpose, items, retention, the right to refuse).
  function renderConsent() {
    const text = state.consent.texts[state.lang] || state.consent.texts.en;
    $("consent-title").textContent = text.title;
    $("consent-text").replaceChildren(...["purpose", "items", "retention", "refusal"].map((key) => {
      const paragraph = document.createElement("p");
      paragraph.textContent = text[key];
      return paragraph;
    }));
    $("consent-agree").textContent = text.agree;
    updateConsent();
  }

  function updateConsent() {
    $("consent-accept").setAttribute("aria-disabled", String(!$("consent-box").checked));
    if ($("consent-box").checked) notify($("consent-notice"), "");
  }

  function acceptConsent() {
    if (!$("consent-box").checked) return notify($("consent-notice"), t("consent.needBox"));
    try {
      localStorage.setItem(CONSENT_KEY, state.consent.version);
    } catch (error) {
      // no storage: agreed for this page only; the version still goes with the request
    }
    state.agreed = state.consent.version;
    analyse();
  }

  // Busy: say so, count down Retry-After, then send the very same request once more.
  async function waitBusy(seconds) {
    const notice = $("busy-notice");
    for (let left = seconds; left > 0; left -= 1) {
      notify(notice, t("loading.busy", { seconds: left }), "info");
      await sleep(1000);
    }
    notify(notice, "");
  }

  async function analyse(retried = false) {
    state.key = state.key || uuid(); // kept when a retry sends the very same request
    const ticket = ++state.pending; // a back press while loading drops the answer
    clearNotices();
    show("loading");
    const form = new FormData();
    form.append("image", state.upload, "photo.jpg");
    state.more.forEach((entry, i) => form.append("image", entry.upload, `photo-${i + 2}.jpg`));
    form.append("mbti", $("mbti").value);
    form.append("birth_date", birthDate());
    form.append("share_opt_in", $("share-opt-in").checked ? "true" : "false");
    form.append("consent", agreedVersion() || state.agreed || "");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    let response;
    let body;
    try {
      response = await fetch("/v1/analyses", {
        method: "POST",
        body: form,
        headers: { "Idempotency-Key": state.key, Accept: "application/json" },
        signal: controller.signal,
      });
      body = await response.json().catch(() => ({}));
    } catch (error) {
      if (ticket !== state.pending) return;
      show("image");
      notify($("image-notice"), t("error.offline"));
      return;
    } finally {
      clearTimeout(timer);
    }
    if (ticket !== state.pending) return;
    if (response.ok) {
      await keepResult(body);
      arrive("result", `/r/${encodeURIComponent(body.id)}`);
      renderResult(body);
    } else if (body.code === "consent_required") { // the text changed since: ask again
      try {
        localStorage.removeItem(CONSENT_KEY);
      } catch (error) {
        // nothing kept
      }
      state.consent = null;
      state.agreed = null;
      if (await loadConsent()) askConsent();
      else showProblem(response, body);
    } else if (!retried && BUSY.has(body.code)) {
      const wait = Number(response.headers.get("Retry-After")) || 2;
      await waitBusy(Math.min(MAX_WAIT_S, Math.max(1, wait)));
      if (ticket === state.pending) await analyse(true);
    } else {
      showProblem(response, body);
    }
  }

  // The result, its delete token and the photo outlive a reload of /r/{id} on this device.
  async function keepResult(result) {
    state.result = result;
    state.deleteToken = result.delete_token || null;
    if (result.delete_token) remember("token", result.id, result.delete_token);
    groups.keep(result);
    if (!state.photoUrl) return;
    const dataUrl = await new Promise((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => resolve(null);
      reader.readAsDataURL(state.upload);
    });
    if (dataUrl) remember("photo", result.id, dataUrl);
  }

  // --- problems: a face problem gets its own view with the framing example ----------------

  const FACE_PROBLEMS = new Set([
    "no_face", "face_too_small", "regions_incomplete", "image_too_small", "different_people",
  ]);

  function showProblem(response, problem) {
    const code = problem.code || `http_${response.status}`;
    if (FACE_PROBLEMS.has(code)) {
      state.problem = problem;
      arrive("problem");
      renderProblem(problem);
      return;
    }
    show("image");
    let message;
    if (UNREADABLE.has(code)) message = t("error.unreadable", { code });
    else if (BUSY.has(code)) message = t("error.busy");
    else if (response.status >= 500 || !problem.detail) message = t("error.server", { code });
    else message = t("error.input", { detail: problem.detail }); // the API's own words
    notify($("image-notice"), message);
  }

  function renderProblem(problem) {
    let key = problem.code;
    const values = { count: problem.face_count, width: problem.width, height: problem.height };
    if (problem.code === "face_too_small") key = problem.face_count > 1 ? "several" : "small";
    if (problem.code === "regions_incomplete") {
      key = "regions";
      const regions = problem.regions || {};
      const lost = PARTS.filter((part) => !(regions[part] && regions[part].found));
      values.parts = (lost.length ? lost : PARTS).map((part) => t(`part.${part}`)).join(", ");
    }
    values.n = (problem.photo ?? 0) + 1;
    const title = t(`problem.${key}.title`, values);
    const several = state.more.length > 0 && problem.photo !== undefined && key !== "different_people";
    $("problem-title").textContent = several ? t("problem.photo", { n: values.n, title }) : title;
    const plain = key === "image_too_small" && !problem.width; // the model server's floor
    $("problem-hint").textContent = t(`problem.${key}.${plain ? "hintPlain" : "hint"}`, values);
  }

  // --- result view -------------------------------------------------------------------------

  async function openResult(id) {
    if (state.result && state.result.id === id) {
      show("result");
      renderResult(state.result);
      return;
    }
    let response;
    const token = recall("token", id);
    const headers = { Accept: "application/json" };
    if (token) headers["X-Delete-Token"] = token; // its owner's view; without: the public one
    try {
      response = await fetch(`/v1/analyses/${encodeURIComponent(id)}`, { headers });
    } catch (error) {
      show("main");
      notify($("main-notice"), t("error.offline"));
      return;
    }
    if (!response.ok) {
      show("missing");
      return;
    }
    state.result = await response.json();
    state.deleteToken = token;
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    state.photoUrl = recall("photo", id);
    show("result");
    renderResult(state.result);
  }

  function renderResult(result) {
    const type = result.type;
    const view = document.querySelector('.view[data-view="result"]');
    view.style.setProperty("--accent", type.colour || NO_COLOUR); // from the API
    const name = typeName(type);
    $("result-type").textContent = result.near
      ? t("result.near", { type: name, near: slugName(result.near) }) : name;
    $("result-photos").hidden = !(result.photos > 1);
    $("result-photos").textContent = t("result.photos", { count: result.photos });
    $("result-steadier").hidden = !(result.near && state.deleteToken); // its owner's offer
    $("result-description").textContent = state.lang === "ko" ? type.description_ko : type.description;
    $("delete-button").hidden = !state.deleteToken;
    $("delete-confirm").hidden = true;
    renderVerdict(result);
    renderReferences(result.references || [], result.references_by);
    drawPhoto(result.regions || {});
    groups.renderResultPanel(result, state.deleteToken);
  }

  function renderVerdict(result) {
    const rows = $("result-regions");
    rows.replaceChildren();
    for (const part of PARTS) {
      const region = (result.regions || {})[part] || {};
      const row = document.createElement("tr");
      row.dataset.part = part;
      if (region.colour) row.style.setProperty("--part", region.colour); // from the API
      const name = document.createElement("th");
      name.scope = "row";
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.style.background = region.colour || NO_COLOUR; // from the API
      name.append(dot, t(`part.${part}`));
      const kind = document.createElement("td");
      kind.textContent = slugName(region.type);
      if (region.strength) {
        const strength = document.createElement("span");
        strength.className = `strength ${region.strength}`;
        strength.textContent = t(`strength.${region.strength}`);
        kind.append(" ", strength);
      }
      const points = document.createElement("td");
      points.className = "num";
      points.textContent = region.points ?? "–";
      row.append(name, kind, points);
      rows.append(row);
    }
    $("result-score").textContent = t("points", { points: result.score });
    $("result-bounds").textContent = boundsText(result);
  }

  // "78 points is above 68, the threshold for Beta. Alpha needs more than 85."
  function boundsText(result) {
    const verdict = result.verdict;
    if (!verdict) return "";
    if (verdict.combination !== "seed_vote") {
      return t("result.byPredictor", { type: typeName(result.type) });
    }
    const bounds = [...verdict.bounds].sort((a, b) => b[0] - a[0]);
    const index = bounds.findIndex(([, slug]) => slug === result.type.slug);
    if (index < 0) return state.lang === "ko" ? verdict.explanation_ko : verdict.explanation;
    const [bound] = bounds[index];
    let text = t("result.bounds", { score: verdict.score, bound, type: typeName(result.type) });
    if (index > 0) {
      const [nextBound, nextSlug] = bounds[index - 1];
      text += ` ${t("result.boundsNext", { next: slugName(nextSlug), bound: nextBound })}`;
    }
    return text;
  }

  // Look-alikes (the catalog faces of the type nearest yours, each with its similarity), or
  // examples drawn at random when the type has too few catalog faces.
  function renderReferences(references, by) {
    const box = $("result-references");
    box.replaceChildren();
    const alike = by === "look-alike";
    $("result-references-title").textContent = t(alike ? "result.lookAlikes" : "result.references");
    $("result-references-note").hidden = !references.length || !references.every((r) => r.demo);
    for (const reference of references) {
      const figure = document.createElement("figure");
      const image = document.createElement("img");
      image.src = reference.url;
      image.alt = reference.demo ? t("result.demoCaption") : reference.caption;
      image.loading = "lazy";
      image.width = 256;
      image.height = 256;
      image.addEventListener("error", () => figure.classList.add("broken"));
      const caption = document.createElement("figcaption");
      caption.textContent = reference.demo ? t("result.demoCaption") : reference.caption;
      figure.append(image, caption);
      if (alike && reference.similarity !== null && reference.similarity !== undefined) {
        const similarity = document.createElement("span");
        similarity.className = "similarity";
        similarity.textContent = t("result.similarity", {
          percent: Math.round(reference.similarity * 100),
        });
        caption.append(" · ", similarity);
      }
      box.append(figure);
    }
  }

  // The photo zoomed to the face; outlines only, the labels are in the table below.
  function drawPhoto(regions) {
    const figure = $("result-figure");
    figure.hidden = !state.photoUrl;
    if (!state.photoUrl) return;
    const canvas = $("result-canvas");
    canvas.setAttribute("aria-label", t("result.photoAlt"));
    const image = new Image();
    image.onload = () => {
      const polygons = PARTS.map((part) => regions[part] && regions[part].polygon)
        .filter((polygon) => polygon && polygon.length >= 3);
      const [left, top, width, height] = focusBox(image, polygons, 4 / 5);
      const scale = Math.min(720 / width, 1.5);
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      const context = canvas.getContext("2d");
      context.drawImage(image, left, top, width, height, 0, 0, canvas.width, canvas.height);
      context.lineWidth = Math.max(3, canvas.width / 150);
      context.lineJoin = "round";
      PARTS.forEach((part) => {
        const polygon = regions[part] && regions[part].polygon;
        if (!polygon || polygon.length < 3) return;
        context.beginPath();
        polygon.forEach(([x, y], i) => {
          const point = [(x - left) * scale, (y - top) * scale];
          if (i === 0) context.moveTo(...point);
          else context.lineTo(...point);
        });
        context.closePath();
        context.strokeStyle = regions[part].colour || NO_COLOUR;
        context.stroke();
      });
    };
    image.src = state.photoUrl;
  }

  // A crop with the given aspect around the regions (1.5x their span), inside the photo.
  function focusBox(image, polygons, aspect) {
    const width = image.naturalWidth;
    const height = image.naturalHeight;
    const points = polygons.flat();
    if (!points.length) return [0, 0, width, height];
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
    const cy = (Math.min(...ys) + Math.max(...ys)) / 2;
    let cropW = Math.max((Math.max(...xs) - Math.min(...xs)) * 1.5,
      (Math.max(...ys) - Math.min(...ys)) * 1.5 * aspect);
    cropW = Math.min(cropW, width, height * aspect);
    const cropH = cropW / aspect;
    const left = Math.min(Math.max(cx - cropW / 2, 0), width - cropW);
    const top = Math.min(Math.max(cy - cropH / 2, 0), height - cropH);
    return [left, top, cropW, cropH];
  }

  // --- Home, Share, Save, Delete ---------------------------------------------------------

  function startOver(push = true) {
    clearNotices();
    if (state.photoUrl && state.photoUrl.startsWith("blob:")) URL.revokeObjectURL(state.photoUrl);
    forgetMore();
    Object.assign(state, {
      upload: null, photoUrl: null, key: null, result: null, deleteToken: null,
      problem: null,
    });
    $("preview").removeAttribute("src");
    if (push) go("main");
    else show("main");
  }

  function withLang(link) {
    const url = new URL(link, window.location.href);
    url.searchParams.set("lang", state.lang);
    return url;
  }

  // The system share sheet, else the clipboard, else the link to copy by hand, said in
  // ``notice`` with the strings ``<prefix>.copied`` / ``<prefix>.copyThis``.
  async function shareLink(url, text, notice, prefix) {
    if (navigator.share) {
      try {
        await navigator.share({ title: text, text, url });
        return;
      } catch (error) {
        if (error.name === "AbortError") return;
      }
    }
    try {
      await navigator.clipboard.writeText(url);
      notify(notice, t(`${prefix}.copied`, { url }), "success");
    } catch (error) {
      notify(notice, t(`${prefix}.copyThis`, { url }), "info");
    }
  }

  async function share() {
    const result = state.result;
    const name = typeName(result.type);
    const text = t("result.shareText", { type: name, article: /^[aeiou]/i.test(name) ? "an" : "a" });
    await shareLink(withLang(result.links.share).href, text, $("result-notice"), "result");
  }

  // An image of ours, in the page's language, saved under ``filename``.
  async function download(link, filename, notice) {
    const url = withLang(link);
    const path = url.pathname + url.search; // same origin, so the download attribute works
    try {
      const response = await fetch(path);
      if (!response.ok) throw new Error(String(response.status));
      const href = URL.createObjectURL(await response.blob());
      const anchor = document.createElement("a");
      anchor.href = href;
      anchor.download = filename;
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
      setTimeout(() => URL.revokeObjectURL(href), 10000);
    } catch (error) {
      notify(notice, t("result.saveFailed"));
    }
  }

  function save(story) {
    const card = withLang(state.result.links.card);
    if (story) card.pathname = card.pathname.replace(/card\.png$/, "story.png");
    const name = `alphamale-${state.result.type.slug}${story ? "-story" : ""}.png`;
    return download(card.href, name, $("result-notice"));
  }

  // "Close to" another type: more selfies of the same person (the photos still here), or anew.
  function steadier() {
    if (!state.upload) return startOver();
    state.key = null;
    renderThumbs();
    go("image");
  }

  function askDelete() {
    $("delete-confirm").hidden = false;
    $("delete-cancel").focus();
  }

  async function remove() {
    const result = state.result;
    try {
      const response = await fetch(new URL(result.links.delete, window.location.href).pathname, {
        method: "DELETE",
        headers: { "X-Delete-Token": state.deleteToken },
      });
      if (!response.ok && response.status !== 404) throw new Error(String(response.status));
    } catch (error) {
      $("delete-confirm").hidden = true;
      notify($("result-notice"), t("result.deleteFailed"));
      return;
    }
    remember("token", result.id, null);
    remember("photo", result.id, null);
    groups.forget(result.id);
    history.replaceState({ view: "main" }, "", "/"); // the result's address is gone
    startOver(false);
    notify($("main-notice"), t("main.deleted"), "success");
  }

  // --- my results: what this phone made (its tokens and summaries are all it keeps) ---------

  function renderMineLink() {
    const count = groups.kept().length;
    $("mine-link").hidden = !count;
    $("mine-link").textContent = t("main.mine", { count });
  }

  // A result of this phone is gone: its token, photo, summary and groups go with it.
  function forgetResult(id) {
    remember("token", id, null);
    remember("photo", id, null);
    groups.forget(id);
  }

  // Entries past the retention period, or that the server no longer has, are dropped.
  async function pruneMine() {
    await groups.backfill();
    const consent = await loadConsent();
    const days = consent ? consent.retention_days : 0;
    let dropped = 0;
    for (const result of groups.kept()) {
      let gone = Boolean(days && result.at && Date.now() - Date.parse(result.at) > days * DAY_MS);
      if (!gone) {
        const headers = { Accept: "application/json", "X-Delete-Token": recall("token", result.id) };
        const path = `/v1/analyses/${encodeURIComponent(result.id)}`;
        const response = await fetch(path, { headers }).catch(() => null);
        gone = Boolean(response && (response.status === 404 || response.status === 403));
      }
      if (gone) {
        forgetResult(result.id);
        dropped += 1;
      }
    }
    return dropped;
  }

  async function openMine() {
    show("mine");
    const ticket = state.pending;
    notify($("mine-notice"), "");
    const dropped = await pruneMine();
    if (ticket !== state.pending) return;
    renderMine();
    if (dropped) notify($("mine-notice"), t("mine.gone", { count: dropped }), "info");
  }

  function mineItem(result) {
    const item = document.createElement("li");
    item.className = "mine-item";
    item.dataset.id = result.id;
    const what = document.createElement("span");
    what.className = "what";
    what.textContent = t("mine.item", {
      type: slugName(result.type), points: t("points", { points: result.score }),
    });
    const when = document.createElement("time");
    when.dateTime = result.at || "";
    when.textContent = result.at
      ? new Intl.DateTimeFormat(state.lang, { dateStyle: "medium" }).format(new Date(result.at)) : "";
    const open = document.createElement("a");
    open.className = "button small-button";
    open.href = `/r/${encodeURIComponent(result.id)}`;
    open.textContent = t("mine.open");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button small-button";
    remove.textContent = t("mine.delete");
    remove.addEventListener("click", () => askDeleteMine(item, result.id));
    item.append(what, when, open, remove);
    return item;
  }

  function renderMine() {
    const results = groups.kept();
    $("mine-list").replaceChildren(...results.map(mineItem));
    $("mine-empty").hidden = Boolean(results.length);
    $("mine-forget").hidden = !results.length;
    $("mine-forget-confirm").hidden = true;
  }

  function askDeleteMine(item, id) {
    if (item.querySelector(".confirm")) return;
    const confirm = document.createElement("div");
    confirm.className = "confirm";
    const question = document.createElement("p");
    question.textContent = t("mine.deleteAsk");
    const keep = document.createElement("button");
    keep.type = "button";
    keep.className = "button small-button";
    keep.textContent = t("mine.cancel");
    keep.addEventListener("click", () => confirm.remove());
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "button small-button danger";
    yes.textContent = t("mine.delete");
    yes.addEventListener("click", async () => {
      const ok = await deleteOnServer(id);
      renderMine();
      notify($("mine-notice"), t(ok ? "mine.deleted" : "mine.failed"), ok ? "success" : "error");
    });
    confirm.append(question, keep, yes);
    item.append(confirm);
  }

  // The server's copy first (gone already counts), then this phone's.
  async function deleteOnServer(id) {
    const path = `/v1/analyses/${encodeURIComponent(id)}`;
    const headers = { "X-Delete-Token": recall("token", id) || "" };
    const response = await fetch(path, { method: "DELETE", headers }).catch(() => null);
    if (!response || (!response.ok && response.status !== 404)) return false;
    forgetResult(id);
    return true;
  }

  async function forgetPhone() {
    let failed = 0;
    for (const result of groups.kept()) {
      if (!(await deleteOnServer(result.id))) failed += 1;
    }
    renderMine();
    notify($("mine-notice"), t(failed ? "mine.failed" : "mine.forgotten"), failed ? "error" : "success");
  }

  // --- navigation --------------------------------------------------------------------------

  function route(entry) {
    state.pending += 1; // whatever was loading is no longer wanted
    const match = window.location.pathname.match(RESULT_PATH);
    if (match) return openResult(match[1]);
    if (MINE_PATH.test(window.location.pathname)) return openMine();
    const group = window.location.pathname.match(GROUP_PATH);
    if (group) return groups.open(group[1], new URLSearchParams(window.location.search).get("vs"));
    const view = entry && entry.view;
    if (view === "image" && state.upload) return show("image");
    if (view === "consent" && state.upload && state.consent) {
      if (agreedVersion() === state.consent.version) return show("image"); // agreed since
      show("consent");
      return renderConsent();
    }
    if (view === "problem" && state.problem) {
      show("problem");
      return renderProblem(state.problem);
    }
    return show("main");
  }

  // What groups.js shares of this client.
  const groups = window.ALPHAMALE_GROUPS({
    $, t, slugName, show, go, notify, withLang, shareLink, download, startOver,
    lang: () => state.lang,
    view: () => state.view,
    ticket: () => state.pending,
    result: () => state.result,
  });

  function init() {
    state.lang = preferredLanguage();
    applyLanguage();
    $("lang-switch").addEventListener("click", switchLanguage);
    $("camera-button").addEventListener("click", () => $("camera-input").click());
    $("gallery-button").addEventListener("click", () => $("gallery-input").click());
    $("camera-input").addEventListener("change", (event) => pick(event.target));
    $("gallery-input").addEventListener("change", (event) => pick(event.target));
    for (const id of ["mbti", "birth-year", "birth-month", "birth-day", "share-opt-in"]) {
      $(id).addEventListener("change", updateAnalyse);
    }
    $("analyse-button").addEventListener("click", onAnalyse);
    $("consent-box").addEventListener("change", updateConsent);
    $("more-camera").addEventListener("click", () => $("camera-input").click());
    $("more-gallery").addEventListener("click", () => $("gallery-input").click());
    $("steadier-button").addEventListener("click", steadier);
    $("mine-link").addEventListener("click", (event) => {
      event.preventDefault();
      go("mine", "/me");
      openMine();
    });
    $("mine-home").addEventListener("click", () => startOver());
    $("mine-forget").addEventListener("click", () => { $("mine-forget-confirm").hidden = false; });
    $("mine-forget-cancel").addEventListener("click", () => { $("mine-forget-confirm").hidden = true; });
    $("mine-forget-yes").addEventListener("click", forgetPhone);
    $("consent-accept").addEventListener("click", acceptConsent);
    $("consent-back").addEventListener("click", () => history.back());
    $("back-button").addEventListener("click", () => history.back());
    $("retry-button").addEventListener("click", () => startOver());
    $("home-button").addEventListener("click", () => startOver());
    $("missing-home").addEventListener("click", () => startOver());
    $("share-button").addEventListener("click", share);
    $("story-button").addEventListener("click", () => save(true));
    $("save-button").addEventListener("click", () => save(false));
    $("delete-button").addEventListener("click", askDelete);
    $("delete-cancel").addEventListener("click", () => { $("delete-confirm").hidden = true; });
    $("delete-yes").addEventListener("click", remove);
    window.addEventListener("popstate", (event) => route(event.state));
    groups.init();
    updateAnalyse();
    history.replaceState({ view: "main" }, "", window.location.href);
    route(history.state);
  }

  init();
})();
