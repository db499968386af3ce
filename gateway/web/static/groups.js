// AlphaMale web client, compare with friends: the group view (/g/{code}), "you vs X"
// (/g/{code}?vs={member id}), and the result view's panel to start or join a group. app.js
// hands in what it shares (strings, views, notices) and calls back through what this returns.
// Nicknames are people's own text: they only ever go into the page as textContent. Members
// are known by their id in the group; which one is this device's ("you") it keeps itself
// (alphamale.member.{code}: that member id and the result it joined with).
"use strict";

window.ALPHAMALE_GROUPS = (app) => {
  const { $, t, slugName, show, go, notify } = app;
  const PARTS = ["face", "t_zone", "jaw"];
  const LETTERS = { alpha: "α", beta: "β", gamma: "γ", delta: "δ", omega: "ω" };
  const NICKNAME_MAX = 20;
  const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/;
  const BLANK = /^[\s\u115f\u1160\u3164\uffa0]*$/;
  const KNOWN_ERRORS = new Set([
    "group_full", "group_closed", "forbidden", "not_found", "invalid_nickname", "rate_limited",
  ]);
  const current = { code: null, group: null, vs: null };

  // --- what this device keeps: its results' tokens and summaries, the groups they are in ----

  function load(key, fallback = null) {
    try {
      const value = localStorage.getItem(`alphamale.${key}`);
      return value === null ? fallback : JSON.parse(value);
    } catch (error) {
      return fallback;
    }
  }

  function store(key, value) {
    try {
      if (value === null) localStorage.removeItem(`alphamale.${key}`);
      else localStorage.setItem(`alphamale.${key}`, JSON.stringify(value));
    } catch (error) {
      // storage full or disabled: groups still work, without the shortcuts
    }
  }

  function tokenOf(id) {
    return localStorage.getItem(`alphamale.token.${id}`);
  }

  // A result this device made (with its token), as the join panel lists it.
  function keep(result) {
    if (!result.delete_token && !tokenOf(result.id)) return;
    store(`result.${result.id}`, {
      type: result.type.slug, score: result.score, at: result.created_at,
    });
  }

  // Results kept before their summaries were: read once from the API (a gone one is forgotten).
  async function backfill() {
    const missing = [];
    for (let i = 0; i < localStorage.length; i += 1) {
      const match = /^alphamale\.token\.(.+)$/.exec(localStorage.key(i) || "");
      if (match && !load(`result.${match[1]}`)) missing.push(match[1]);
    }
    for (const id of missing.slice(0, 10)) {
      const path = `/v1/analyses/${encodeURIComponent(id)}`;
      const answer = await call("GET", path, { token: tokenOf(id) }); // the owner's view
      if (answer.ok) keep(answer.data);
      else if (answer.status === 404) localStorage.removeItem(`alphamale.token.${id}`);
    }
  }

  function keptResults() {
    const results = [];
    for (let i = 0; i < localStorage.length; i += 1) {
      const match = /^alphamale\.token\.(.+)$/.exec(localStorage.key(i) || "");
      const summary = match && load(`result.${match[1]}`);
      if (summary) results.push({ id: match[1], ...summary });
    }
    return results.sort((a, b) => String(b.at).localeCompare(String(a.at)));
  }

  function rememberGroup(id, code, host) {
    const groups = load(`groups.${id}`, []).filter((entry) => entry.code !== code);
    store(`groups.${id}`, [{ code, host }, ...groups].slice(0, 20));
  }

  function forgetGroup(id, code) {
    store(`groups.${id}`, load(`groups.${id}`, []).filter((entry) => entry.code !== code));
    store(`member.${code}`, null);
  }

  // This device's member in a group: its member id and the result it joined with.
  function membership(code) {
    return load(`member.${code}`);
  }

  function becameMember(code, member, result) {
    store(`member.${code}`, { member, result });
  }

  // A result deleted on this device: it left every group.
  function forget(id) {
    for (const entry of load(`groups.${id}`, [])) store(`member.${entry.code}`, null);
    store(`groups.${id}`, null);
    store(`result.${id}`, null);
  }

  function invitation() {
    try {
      return JSON.parse(sessionStorage.getItem("alphamale.invite") || "null");
    } catch (error) {
      return null;
    }
  }

  function invite(value) {
    try {
      if (value) sessionStorage.setItem("alphamale.invite", JSON.stringify(value));
      else sessionStorage.removeItem("alphamale.invite");
    } catch (error) {
      // no session storage: the invite link still works, opened again
    }
  }

  // --- the API ----------------------------------------------------------------------------

  async function call(method, path, { body, token } = {}) {
    const headers = { Accept: "application/json" };
    if (body) headers["Content-Type"] = "application/json";
    if (token) headers["X-Delete-Token"] = token;
    try {
      const response = await fetch(path, {
        method, headers, body: body ? JSON.stringify(body) : undefined,
      });
      const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
      return { ok: response.ok, status: response.status, data };
    } catch (error) {
      return { ok: false, status: 0, data: { code: "offline" } };
    }
  }

  function problemText(answer) {
    const code = answer.data.code || `http_${answer.status}`;
    if (code === "offline") return t("error.offline");
    if (KNOWN_ERRORS.has(code)) return t(`groups.error.${code}`);
    return t("groups.error.other", { code });
  }

  function nickname(input) {
    const value = input.value.trim();
    const length = Array.from(value).length;
    if (!length || length > NICKNAME_MAX || INVISIBLE.test(value) || BLANK.test(value)) return null;
    return value;
  }

  // --- the group view ----------------------------------------------------------------------

  function host(group) {
    const owner = group.members.find((member) => member.owner);
    return (owner || group.members[0] || { nickname: "" }).nickname;
  }

  function you(group) {
    const mine = membership(group.code);
    if (!mine || !tokenOf(mine.result)) return null;
    return group.members.find((member) => member.member_id === mine.member) || null;
  }

  // The delete token of the result behind this device's member (its proof of ownership).
  function yourToken(group) {
    const mine = membership(group.code);
    return mine ? tokenOf(mine.result) : null;
  }

  function typeName(type) {
    return app.lang() === "ko" ? type.name_ko : type.name;
  }

  async function open(code, vs) {
    if (current.code !== code) Object.assign(current, { code, group: null });
    current.vs = vs || null;
    const ticket = app.ticket();
    await backfill();
    const answer = await call("GET", `/v1/groups/${encodeURIComponent(code)}`);
    if (ticket !== app.ticket()) return;
    if (!answer.ok) {
      current.group = null;
      show(answer.status === 404 ? "group-missing" : "group");
      if (answer.status !== 404) notify($("group-notice"), problemText(answer));
      return;
    }
    current.group = answer.data;
    const viewer = you(current.group);
    if (viewer) rememberGroup(membership(code).result, code, host(current.group));
    else if (!current.group.closed) invite({ code, host: host(current.group) });
    const other = current.vs && current.group.members.find((m) => m.member_id === current.vs);
    show(viewer && other && other !== viewer ? "versus" : "group");
    render();
  }

  function render() {
    if (!current.group) return;
    if (app.view() === "versus") renderVersus();
    else renderGroup();
  }

  function renderGroup() {
    const group = current.group;
    const viewer = you(group);
    $("group-title").textContent = t("group.title", { name: host(group) });
    $("group-summary").textContent = t("group.summary", {
      count: group.members.length, max: group.max_members,
    });
    $("group-closed").hidden = !group.closed;
    $("group-alone").hidden = group.closed || group.members.length > 1 || !viewer;
    $("group-members").replaceChildren(...group.members.map((m) => memberItem(m, viewer)));
    renderJoin(group, viewer);
    $("group-leave").hidden = !viewer;
    $("group-close").hidden = !(viewer && viewer.owner && !group.closed);
    $("group-rotate").hidden = $("group-close").hidden;
    $("group-share").hidden = group.closed;
    $("group-share").classList.toggle("primary", Boolean(viewer)); // a visitor's first step: join
  }

  function avatar(member) {
    if (member.photo_url) {
      const image = document.createElement("img");
      image.className = "avatar";
      image.src = member.photo_url;
      image.alt = t("group.photoAlt", { name: member.nickname });
      image.width = 48;
      image.height = 48;
      return image;
    }
    const emblem = document.createElement("span");
    emblem.className = "avatar emblem";
    emblem.setAttribute("aria-hidden", "true");
    emblem.style.background = member.type.colour;
    emblem.textContent = LETTERS[member.type.slug] || "?";
    return emblem;
  }

  function regionChips(member) {
    const list = document.createElement("ul");
    list.className = "parts";
    for (const part of PARTS) {
      const region = member.regions[part] || {};
      const chip = document.createElement("li");
      chip.dataset.part = part;
      if (region.colour) chip.style.setProperty("--part", region.colour); // from the API
      const label = document.createElement("span");
      label.textContent = t(`part.${part}`);
      chip.append(label, ` ${slugName(region.type)} · ${region.points ?? "–"}`);
      list.append(chip);
    }
    return list;
  }

  function memberItem(member, viewer) {
    const item = document.createElement("li");
    item.className = "member";
    item.dataset.id = member.member_id;
    const isYou = viewer && member.member_id === viewer.member_id;
    item.classList.toggle("you", Boolean(isYou));
    item.style.setProperty("--accent", member.type.colour);
    const rank = document.createElement("span");
    rank.className = "rank";
    rank.textContent = member.rank;
    rank.setAttribute("aria-label", t("group.rank", { rank: member.rank }));
    const who = document.createElement("div");
    who.className = "who";
    const name = document.createElement("span");
    name.className = "nickname";
    name.textContent = member.nickname;
    who.append(name);
    for (const [flag, key] of [[isYou, "group.you"], [member.owner, "group.owner"]]) {
      if (!flag) continue;
      const badge = document.createElement("span");
      badge.className = `badge ${key === "group.you" ? "you-badge" : ""}`;
      badge.textContent = t(key);
      who.append(" ", badge);
    }
    const type = document.createElement("span");
    type.className = "type";
    type.textContent = typeName(member.type);
    who.append(type);
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = t("points", { points: member.score });
    item.append(rank, avatar(member), who, score, regionChips(member));
    if (viewer && !isYou) item.append(compareButton(member));
    return item;
  }

  function compareButton(member) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button compare";
    button.textContent = t("group.compare", { name: member.nickname });
    button.addEventListener("click", () => {
      current.vs = member.member_id;
      go("versus", `/g/${encodeURIComponent(current.code)}?vs=${encodeURIComponent(member.member_id)}`);
      renderVersus();
    });
    return button;
  }

  function renderJoin(group, viewer) {
    const joinedWith = (membership(group.code) || {}).result;
    const results = keptResults().filter((r) => r.id !== joinedWith);
    const open = !group.closed && !viewer;
    $("group-join").hidden = !open || !results.length;
    $("group-take-test").hidden = !open || Boolean(results.length);
    if (!open || !results.length) return;
    const chosen = $("join-results").querySelector("input:checked");
    const keepChoice = chosen && results.some((r) => r.id === chosen.value);
    const options = results.map((result, index) => {
      const label = document.createElement("label");
      label.className = "check";
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "join-result";
      radio.value = result.id;
      radio.checked = keepChoice ? result.id === chosen.value : index === 0;
      const text = document.createElement("span");
      text.textContent = t("group.resultOption", {
        type: slugName(result.type), points: t("points", { points: result.score }),
      });
      label.append(radio, text);
      return label;
    });
    $("join-results").replaceChildren(...options);
    if (!$("join-nickname").value) $("join-nickname").value = load("nickname", "");
  }

  async function join(resultId, input, notice) {
    const name = nickname(input);
    if (!name) return notify(notice, t("groups.badNickname"));
    const code = current.code || (invitation() || {}).code;
    const body = { analysis_id: resultId, delete_token: tokenOf(resultId), nickname: name };
    const answer = await call("POST", `/v1/groups/${encodeURIComponent(code)}/members`, { body });
    if (!answer.ok) return notify(notice, problemText(answer));
    becameMember(code, answer.data.member_id, resultId);
    store("nickname", name);
    invite(null);
    go("group", `/g/${encodeURIComponent(code)}`);
    await open(code, null);
    notify($("group-notice"), t("group.joined"), "success");
  }

  async function leave() {
    const viewer = you(current.group);
    if (!viewer) return;
    const code = current.code;
    const mine = membership(code);
    const path = `/v1/groups/${encodeURIComponent(code)}/members/${encodeURIComponent(viewer.member_id)}`;
    const answer = await call("DELETE", path, { token: tokenOf(mine.result) });
    if (!answer.ok && answer.status !== 404) return notify($("group-notice"), problemText(answer));
    forgetGroup(mine.result, code);
    await open(code, null);
    if (app.view() === "group") notify($("group-notice"), t("group.left"), "success");
  }

  async function close() {
    const viewer = you(current.group);
    if (!viewer || !viewer.owner) return;
    const path = `/v1/groups/${encodeURIComponent(current.code)}`;
    const answer = await call("DELETE", path, { token: yourToken(current.group) });
    if (!answer.ok) return notify($("group-notice"), problemText(answer));
    await open(current.code, null);
    notify($("group-notice"), t("group.closedDone"), "success");
  }

  // The owner's new invite link: the old one stops working for whoever still has it.
  async function rotate() {
    const viewer = you(current.group);
    if (!viewer || !viewer.owner) return;
    const old = current.code;
    const mine = membership(old);
    const path = `/v1/groups/${encodeURIComponent(old)}/rotate`;
    const answer = await call("POST", path, { token: tokenOf(mine.result) });
    if (!answer.ok) return notify($("group-notice"), problemText(answer));
    const code = answer.data.code;
    forgetGroup(mine.result, old);
    becameMember(code, answer.data.member_id, mine.result);
    rememberGroup(mine.result, code, host(answer.data));
    Object.assign(current, { code, group: answer.data, vs: null });
    history.replaceState({ view: "group" }, "", `/g/${encodeURIComponent(code)}`);
    renderGroup();
    notify($("group-notice"), t("group.rotated"), "success");
  }

  async function share() {
    const url = app.withLang(current.group.invite_url).href;
    await app.shareLink(url, t("group.shareText"), $("group-notice"), "group");
  }

  function takeTest() {
    invite({ code: current.code, host: host(current.group) });
    app.startOver();
  }

  // --- you vs X ------------------------------------------------------------------------------

  // A region of one side: its type over its points, marked when it scored more.
  function regionCell(region, other) {
    const cell = document.createElement("td");
    const points = document.createElement("span");
    points.className = "points";
    points.textContent = t("points", { points: region.points ?? "–" });
    cell.append(slugName(region.type), points);
    cell.classList.toggle("ahead", (region.points || 0) > (other.points || 0));
    return cell;
  }

  function comparison(part, mine, theirs, name) {
    const values = { part: t(`part.${part}`), name, you: mine.points, them: theirs.points };
    if (mine.type && mine.type === theirs.type) return t("versus.same", { ...values, type: slugName(mine.type) });
    const diff = Math.abs((mine.points || 0) - (theirs.points || 0));
    if (!diff) return t("versus.even", values);
    return t((mine.points || 0) > (theirs.points || 0) ? "versus.more" : "versus.less", { ...values, diff });
  }

  function renderVersus() {
    const group = current.group;
    const viewer = you(group);
    const other = group.members.find((member) => member.member_id === current.vs);
    if (!viewer || !other) {
      show("group");
      return renderGroup();
    }
    $("versus-eyebrow").textContent = t("group.title", { name: host(group) });
    $("versus-title").textContent = t("versus.title", { name: other.nickname });
    $("versus-them").textContent = other.nickname;
    const rows = [];
    const notes = [];
    for (const part of PARTS) {
      const mine = viewer.regions[part] || {};
      const theirs = other.regions[part] || {};
      const row = document.createElement("tr");
      row.dataset.part = part;
      if (mine.colour) row.style.setProperty("--part", mine.colour); // from the API
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = t(`part.${part}`);
      row.append(name, regionCell(mine, theirs), regionCell(theirs, mine));
      rows.push(row);
      const note = document.createElement("li");
      note.dataset.part = part;
      if (mine.colour) note.style.setProperty("--part", mine.colour);
      note.textContent = comparison(part, mine, theirs, other.nickname);
      notes.push(note);
    }
    $("versus-rows").replaceChildren(...rows);
    $("versus-notes").replaceChildren(...notes);
    $("versus-you-score").textContent = t("points", { points: viewer.score });
    $("versus-them-score").textContent = t("points", { points: other.score });
    const diff = viewer.score - other.score;
    $("versus-you-score").classList.toggle("ahead", diff > 0);
    $("versus-them-score").classList.toggle("ahead", diff < 0);
    const values = { name: other.nickname, diff: Math.abs(diff), you: viewer.score, them: other.score };
    $("versus-summary").textContent = t(diff > 0 ? "versus.ahead" : diff < 0 ? "versus.behind" : "versus.tie", values);
  }

  // --- the result view's panel: start a group, join the one that invited you ----------------

  function renderResultPanel(result, token) {
    const panel = $("result-groups");
    panel.hidden = !token;
    if (!token) return;
    const pending = invitation();
    const member = load(`groups.${result.id}`, []);
    const joined = pending && member.some((entry) => entry.code === pending.code);
    $("invite-join").hidden = !pending || joined;
    if (pending && !joined) {
      $("invite-join").textContent = t("groups.joinInvite", { name: pending.host });
    }
    $("invite-lead").hidden = $("invite-join").hidden;
    $("groups-lead").hidden = !$("invite-join").hidden; // invited: joining comes first
    if (!$("invite-lead").hidden) $("invite-lead").textContent = t("groups.invited", { name: pending.host });
    const links = member.map((entry) => {
      const link = document.createElement("a");
      link.href = `/g/${encodeURIComponent(entry.code)}`;
      link.className = "group-link";
      link.textContent = t("group.title", { name: entry.host });
      link.addEventListener("click", (event) => {
        event.preventDefault();
        go("group", link.getAttribute("href"));
        open(entry.code, null);
      });
      return link;
    });
    $("result-group-list").replaceChildren(...links);
    $("result-group-list").hidden = !links.length;
    if (!$("start-nickname").value) $("start-nickname").value = load("nickname", "");
  }

  async function startGroup() {
    const result = app.result();
    const notice = $("groups-notice");
    const name = nickname($("start-nickname"));
    if (!name) return notify(notice, t("groups.badNickname"));
    const body = { analysis_id: result.id, delete_token: tokenOf(result.id), nickname: name };
    const answer = await call("POST", "/v1/groups", { body });
    if (!answer.ok) return notify(notice, problemText(answer));
    becameMember(answer.data.code, answer.data.member_id, result.id);
    store("nickname", name);
    rememberGroup(result.id, answer.data.code, name);
    Object.assign(current, { code: answer.data.code, group: answer.data, vs: null });
    go("group", `/g/${encodeURIComponent(answer.data.code)}`);
    renderGroup();
  }

  function init() {
    $("start-group").addEventListener("click", startGroup);
    $("invite-join").addEventListener("click", () => {
      const pending = invitation();
      if (!pending) return;
      current.code = pending.code;
      join(app.result().id, $("start-nickname"), $("groups-notice"));
    });
    $("join-button").addEventListener("click", () => {
      const chosen = $("join-results").querySelector("input:checked");
      if (chosen) join(chosen.value, $("join-nickname"), $("group-notice"));
    });
    $("group-start-test").addEventListener("click", takeTest);
    $("group-new-photo").addEventListener("click", takeTest);
    $("group-share").addEventListener("click", share);
    $("group-story").addEventListener("click", () => app.download(
      current.group.story_url, "alphamale-group-story.png", $("group-notice"),
    ));
    $("group-leave").addEventListener("click", leave);
    $("group-close").addEventListener("click", close);
    $("group-rotate").addEventListener("click", rotate);
    $("versus-back").addEventListener("click", () => {
      go("group", `/g/${encodeURIComponent(current.code)}`);
      renderGroup();
    });
    $("group-missing-home").addEventListener("click", () => app.startOver());
  }

  return { init, open, render, keep, forget, renderResultPanel, kept: keptResults, backfill };
};
