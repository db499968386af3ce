// AlphaMale mobile web client: plain JS, no build step, no external requests.
"use strict";

(() => {
  const MAX_BYTES = 10 * 1024 * 1024;
  const TIMEOUT_MS = 60000;
  const PARTS = [["face", "Face"], ["t_zone", "T-zone"], ["jaw", "Jaw"]];
  const PART_COLOURS = { face: "#ffd166", t_zone: "#06d6a0", jaw: "#ef476f" };

  const $ = (id) => document.getElementById(id);
  const state = { file: null, photoUrl: null, key: null, result: null, deleteToken: null };

  // --- small helpers -----------------------------------------------------------------------

  function show(name) {
    for (const view of document.querySelectorAll(".view")) {
      view.hidden = view.dataset.view !== name;
    }
    window.scrollTo(0, 0);
    const heading = document.querySelector(`.view[data-view="${name}"] h1`);
    if (heading) heading.focus({ preventScroll: true });
  }

  function notify(element, text) {
    element.textContent = text || "";
    element.hidden = !text;
  }

  function clearNotices() {
    for (const id of ["main-notice", "image-notice", "result-notice", "no-face-hint"]) {
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

  function title(slug) {
    return slug ? slug.charAt(0).toUpperCase() + slug.slice(1) : "Not found";
  }

  function isoDate(date) {
    return date.toISOString().slice(0, 10);
  }

  // --- main view: pick a photo -----------------------------------------------------------

  function pick(input) {
    const file = input.files && input.files[0];
    input.value = ""; // picking the same file again still fires "change"
    if (!file) return;
    clearNotices();
    if (file.type && !file.type.startsWith("image/")) {
      notify($("main-notice"), "That file is not a photo. Choose a JPEG, PNG, WebP or HEIC image.");
      return;
    }
    if (file.size > MAX_BYTES) {
      notify($("main-notice"), "That photo is larger than 10 MB. Choose a smaller one.");
      return;
    }
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    state.file = file;
    state.upload = null; // the downscaled copy, made once per photo (a retry sends the same bytes)
    state.photoUrl = URL.createObjectURL(file);
    state.key = null;
    $("preview").src = state.photoUrl;
    updateAnalyse();
    show("image");
  }

  // --- image view: MBTI, birth date, Analyse ---------------------------------------------

  function missing() {
    const needed = [];
    if (!$("mbti").value) needed.push("your MBTI");
    if (!$("birth-date").value || !$("birth-date").checkValidity()) needed.push("your birth date");
    return needed;
  }

  function updateAnalyse() {
    state.key = null; // new inputs, new request: a new Idempotency-Key
    $("analyse-button").setAttribute("aria-disabled", String(missing().length > 0));
    if (!missing().length) notify($("image-notice"), "");
  }

  function onAnalyse() {
    const needed = missing();
    if (needed.length) {
      notify($("image-notice"), `Choose ${needed.join(" and ")} first.`);
      return;
    }
    analyse();
  }

  const BUSY = new Set(["overloaded", "rate_limited", "model_unavailable"]);
  const MAX_WAIT_S = 30;

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  // Busy: say so, count down Retry-After, then send the very same request once more.
  async function waitBusy(seconds) {
    const notice = $("busy-notice");
    notice.hidden = false;
    for (let left = seconds; left > 0; left -= 1) {
      notice.textContent = `AlphaMale is busy, retrying in ${left} s…`;
      await sleep(1000);
    }
    notice.hidden = true;
  }

  const UPLOAD_SIDE = 1600; // px: the service keeps at most 2048 and looks at less

  // A phone photo is 12 MP: send a ~1600 px JPEG instead (upright: EXIF orientation applied).
  // Where the browser cannot decode the photo (HEIC outside Safari), the original goes as is.
  async function downscale(file) {
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      const scale = Math.min(1, UPLOAD_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.type === "image/jpeg") return file;
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
      return blob || file;
    } catch (error) {
      return file;
    }
  }

  async function analyse(retried = false) {
    state.key = state.key || uuid(); // kept when a retry sends the very same request
    show("loading");
    state.upload = state.upload || (await downscale(state.file));
    const form = new FormData();
    form.append("image", state.upload, "photo.jpg");
    form.append("mbti", $("mbti").value);
    form.append("birth_date", $("birth-date").value);
    form.append("share_opt_in", $("share-opt-in").checked ? "true" : "false");
    clearNotices();
    show("loading");
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
      show("image");
      notify($("image-notice"), "AlphaMale could not be reached. Check your connection and retry.");
      return;
    } finally {
      clearTimeout(timer);
    }
    if (response.ok) {
      showResult(body);
    } else if (!retried && BUSY.has(body.code)) {
      const wait = Number(response.headers.get("Retry-After")) || 2;
      await waitBusy(Math.min(MAX_WAIT_S, Math.max(1, wait)));
      await analyse(true);
    } else {
      showProblem(response, body);
    }
  }

  function showProblem(response, problem) {
    const hint = problem.hint || problem.detail || "Please try again.";
    if (problem.code === "no_face") {
      notify($("no-face-hint"), hint);
      show("no-face");
      return;
    }
    const wait = response.headers.get("Retry-After");
    const titleText = problem.title || `Error ${response.status}`;
    const retry = wait ? ` (retry in ${wait} s)` : "";
    show("image");
    notify($("image-notice"), `${titleText}: ${hint}${retry}`);
  }

  // --- result view -------------------------------------------------------------------------

  function showResult(result) {
    state.result = result;
    if (result.delete_token) state.deleteToken = result.delete_token;
    const type = result.type;
    const view = document.querySelector('.view[data-view="result"]');
    view.style.setProperty("--accent", type.colour || "#c8c8d2");  // from the API
    $("result-type").textContent = type.name;
    $("result-description").textContent = type.description;
    $("result-disclaimer").textContent = result.disclaimer || "";
    $("delete-button").hidden = !state.deleteToken;
    renderRegions(result.regions || {});
    $("result-verdict").textContent = result.verdict ? result.verdict.explanation : "";
    renderReferences(result.references || []);
    drawPhoto(result.regions || {});
    show("result");
  }

  function renderRegions(regions) {
    const list = $("result-regions");
    list.replaceChildren();
    for (const [part, label] of PARTS) {
      const region = regions[part] || {};
      const item = document.createElement("li");
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.style.background = PART_COLOURS[part];
      const name = document.createElement("span");
      name.className = "part";
      name.textContent = label;
      const value = document.createElement("span");
      value.className = "value";
      value.textContent =
        `${title(region.type)} · ${region.points ?? "–"} pts · ${region.strength || ""}`;
      item.append(dot, name, value);
      list.append(item);
    }
  }

  function renderReferences(references) {
    const box = $("result-references");
    box.replaceChildren();
    if (!references.length) {
      const empty = document.createElement("p");
      empty.className = "small";
      empty.textContent = "No reference images yet.";
      box.append(empty);
      return;
    }
    for (const reference of references) {
      const figure = document.createElement("figure");
      const image = document.createElement("img");
      image.src = reference.url;
      image.alt = reference.caption || "Reference image";
      image.loading = "lazy";
      const caption = document.createElement("figcaption");
      caption.textContent = reference.caption || "";
      figure.append(image, caption);
      box.append(figure);
    }
  }

  function drawPhoto(regions) {
    const canvas = $("result-canvas");
    const image = new Image();
    image.onload = () => {
      // browsers apply EXIF orientation, like the server did before finding the regions
      const scale = Math.min(1, 1080 / Math.max(image.naturalWidth, image.naturalHeight));
      canvas.width = Math.round(image.naturalWidth * scale);
      canvas.height = Math.round(image.naturalHeight * scale);
      const context = canvas.getContext("2d");
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      const line = Math.max(3, canvas.width / 160);
      for (const [part, label] of PARTS) {
        const polygon = regions[part] && regions[part].polygon;
        if (polygon && polygon.length >= 3) drawRegion(context, polygon, scale, line, part, label);
      }
    };
    image.src = state.photoUrl;
  }

  function drawRegion(context, polygon, scale, line, part, label) {
    const colour = PART_COLOURS[part];
    context.beginPath();
    polygon.forEach(([x, y], index) => {
      if (index === 0) context.moveTo(x * scale, y * scale);
      else context.lineTo(x * scale, y * scale);
    });
    context.closePath();
    context.lineWidth = line;
    context.strokeStyle = colour;
    context.stroke();
    const left = Math.min(...polygon.map((p) => p[0])) * scale;
    const top = Math.min(...polygon.map((p) => p[1])) * scale;
    const size = Math.max(14, Math.round(context.canvas.width / 26));
    context.font = `700 ${size}px system-ui, sans-serif`;
    const width = context.measureText(label).width + size * 0.8;
    context.fillStyle = colour;
    context.fillRect(left, top, width, size * 1.5);
    context.fillStyle = "#11131c";
    context.fillText(label, left + size * 0.4, top + size * 1.1);
  }

  // --- Home, Share, Save, Delete ---------------------------------------------------------

  function goHome() {
    clearNotices();
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    Object.assign(state, { file: null, photoUrl: null, key: null, result: null, deleteToken: null });
    $("preview").removeAttribute("src");
    show("main");
  }

  async function share() {
    const result = state.result;
    const url = result.links.share;
    const text = `I'm ${/^[aeiou]/i.test(result.type.name) ? "an" : "a"} ${result.type.name} on AlphaMale`;
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
      notify($("result-notice"), `Link copied: ${url}`);
    } catch (error) {
      notify($("result-notice"), `Copy this link to share: ${url}`);
    }
  }

  async function save() {
    const card = state.result.links.card;
    const path = new URL(card, window.location.href).pathname; // same origin, so download works
    try {
      const response = await fetch(path);
      if (!response.ok) throw new Error(String(response.status));
      const href = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = href;
      link.download = `alphamale-${state.result.type.slug}.png`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(href), 10000);
    } catch (error) {
      window.location.href = card;
    }
  }

  async function remove() {
    if (!window.confirm("Delete this result and your photo from AlphaMale?")) return;
    try {
      const response = await fetch(new URL(state.result.links.delete, window.location.href).pathname, {
        method: "DELETE",
        headers: { "X-Delete-Token": state.deleteToken },
      });
      if (!response.ok && response.status !== 404) throw new Error(String(response.status));
      goHome();
      notify($("main-notice"), "Your result and photo were deleted.");
    } catch (error) {
      notify($("result-notice"), "The result could not be deleted. Please try again.");
    }
  }

  // --- wiring ------------------------------------------------------------------------------

  function init() {
    const today = new Date();
    const latest = new Date(today.getFullYear() - 14, today.getMonth(), today.getDate());
    const earliest = new Date(today.getFullYear() - 120, today.getMonth(), today.getDate() + 1);
    $("birth-date").max = isoDate(latest);
    $("birth-date").min = isoDate(earliest);

    $("camera-button").addEventListener("click", () => $("camera-input").click());
    $("gallery-button").addEventListener("click", () => $("gallery-input").click());
    $("camera-input").addEventListener("change", (event) => pick(event.target));
    $("gallery-input").addEventListener("change", (event) => pick(event.target));
    for (const id of ["mbti", "birth-date", "share-opt-in"]) {
      $(id).addEventListener("input", updateAnalyse);
      $(id).addEventListener("change", updateAnalyse);
    }
    $("analyse-button").addEventListener("click", onAnalyse);
    $("back-button").addEventListener("click", goHome);
    $("retry-button").addEventListener("click", goHome);
    $("home-button").addEventListener("click", goHome);
    $("share-button").addEventListener("click", share);
    $("save-button").addEventListener("click", save);
    $("delete-button").addEventListener("click", remove);
    updateAnalyse();
  }

  init();
})();
