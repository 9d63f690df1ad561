// The citizen search page: search as you type, suggestions (ARIA combobox), grouped cited results.
import {
  $, api, articleIdOf, el, errorText, fmtNumber, highlighted, initI18n, loadArticle, onLangChange,
  sendFeedback, t,
} from "/static/common.js";

const K = 10;
const input = $("#q");
const list = $("#suggestions");
const statusLine = $("#status");
const state = { data: null, q: "", page: 1, seq: 0, controller: null, sent: new Map() };
let suggestOn = true; // off once /v1/suggest answers 404: the page works without it
let suggestions = [];
let active = -1;
let suggestTimer = 0;
let searchTimer = 0;
let suggestController = null;

function filters() {
  return { lang: $("#f-lang").value, kind: $("#f-kind").value };
}

function syncUrl() {
  const url = new URL(location.href);
  for (const [k, v] of Object.entries({ q: state.q, page: state.page > 1 ? state.page : "", ...filters() })) {
    if (v) url.searchParams.set(k, v); else url.searchParams.delete(k);
  }
  history.replaceState(null, "", url);
}

// Suggestions: a listbox under the input, navigated with the arrow keys while focus stays in the input.
function closeList() {
  list.hidden = true;
  list.replaceChildren();
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
  suggestions = [];
  active = -1;
}

function showList() {
  if (!suggestions.length) return closeList();
  list.replaceChildren(...suggestions.map((s, i) => el("li", {
    id: `sug-${i}`, role: "option", "aria-selected": String(i === active), class: "suggestion",
    onmousedown: (e) => { e.preventDefault(); choose(i); },
  }, el("span", { text: s.title, lang: s.lang || null }), el("span", { class: "kind", text: t(`kind_${s.kind}`) }))));
  list.hidden = false;
  input.setAttribute("aria-expanded", "true");
  if (active >= 0) input.setAttribute("aria-activedescendant", `sug-${active}`);
  else input.removeAttribute("aria-activedescendant");
}

async function fetchSuggestions(q) {
  if (!suggestOn || q.trim().length < 2) return closeList();
  suggestController?.abort();
  suggestController = new AbortController();
  try {
    const data = await api(`/v1/suggest?${new URLSearchParams({ q, k: 8 })}`, { signal: suggestController.signal });
    if (input.value !== q || document.activeElement !== input) return;
    suggestions = data.suggestions || [];
    active = -1;
    showList();
  } catch (err) {
    if (err.name === "AbortError") return;
    if (err.status === 404) suggestOn = false;
    closeList();
  }
}

function choose(i) {
  const s = suggestions[i];
  if (!s) return;
  // The typed text's pending search would otherwise run again, after this one, on the picked title.
  clearTimeout(searchTimer);
  clearTimeout(suggestTimer);
  input.value = s.title;
  closeList();
  search(1);
}

input.addEventListener("input", () => {
  clearTimeout(suggestTimer);
  clearTimeout(searchTimer);
  const q = input.value;
  suggestTimer = setTimeout(() => fetchSuggestions(q), 120);
  if (q.trim().length >= 3) searchTimer = setTimeout(() => search(1), 450);
});

input.addEventListener("keydown", (e) => {
  const open = !list.hidden && suggestions.length > 0;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    if (!open) return;
    e.preventDefault();
    const step = e.key === "ArrowDown" ? 1 : -1;
    active = (active + step + suggestions.length + 1) % (suggestions.length + 1);
    if (active === suggestions.length) active = -1; // past either end: back to the typed text
    showList();
    $(`#sug-${active}`)?.scrollIntoView({ block: "nearest" });
  } else if (e.key === "Enter" && open && active >= 0) {
    e.preventDefault();
    choose(active);
  } else if (e.key === "Escape" && open) {
    e.preventDefault();
    closeList();
  }
});
input.addEventListener("blur", () => setTimeout(closeList, 0));

$("#search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  clearTimeout(searchTimer);
  closeList();
  search(1);
});
for (const sel of ["#f-lang", "#f-kind"]) $(sel).addEventListener("change", () => state.q && search(1));

// Search and results.
async function search(page) {
  const q = input.value.trim();
  if (!q) return;
  const seq = ++state.seq;
  state.controller?.abort();
  state.controller = new AbortController();
  Object.assign(state, { q, page });
  syncUrl();
  statusLine.textContent = t("searching");
  $("#results").setAttribute("aria-busy", "true");
  const params = new URLSearchParams({ q, k: K, page });
  for (const [k, v] of Object.entries(filters())) if (v) params.set(k, v);
  try {
    const data = await api(`/v1/search?${params}`, { signal: state.controller.signal });
    if (seq !== state.seq) return;
    state.data = data;
    render();
  } catch (err) {
    if (err.name === "AbortError" || seq !== state.seq) return;
    state.data = null;
    $("#groups").replaceChildren();
    $("#pager").hidden = true;
    $("#empty").hidden = true;
    statusLine.textContent = errorText(err);
  } finally {
    if (seq === state.seq) $("#results").removeAttribute("aria-busy");
  }
}

function feedbackControls(node, group) {
  const key = `${state.data.query_id}|${group.id}`;
  node.querySelector(".q").textContent = t("helpful_q");
  const thanks = node.querySelector(".thanks");
  const buttons = [[".yes", true], [".no", false]].map(([sel, helpful]) => {
    const b = node.querySelector(sel);
    b.textContent = t(helpful ? "yes" : "no");
    b.setAttribute("aria-pressed", String(state.sent.get(key) === helpful));
    b.addEventListener("click", async () => {
      buttons.forEach((x) => { x.disabled = true; });
      try {
        await sendFeedback({ query_id: state.data.query_id, result_id: group.id, helpful });
        state.sent.set(key, helpful);
        b.setAttribute("aria-pressed", "true");
        thanks.textContent = t("thanks");
      } catch {
        buttons.forEach((x) => { x.disabled = false; });
        thanks.textContent = t("feedback_error");
      }
    });
    return b;
  });
  if (state.sent.has(key)) {
    buttons.forEach((x) => { x.disabled = true; });
    thanks.textContent = t("thanks");
  }
}

function articleToggle(node, passage) {
  const box = node.querySelector(".article");
  const button = el("button", { type: "button", class: "link", "aria-expanded": "false", text: t("read_article") });
  button.addEventListener("click", async () => {
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", String(!open));
    button.textContent = t(open ? "read_article" : "hide_article");
    box.hidden = open;
    if (open || box.childNodes.length) return;
    box.textContent = t("article_loading");
    try {
      box.replaceChildren(await loadArticle(passage.doc_id, articleIdOf(passage)));
    } catch {
      box.textContent = t("article_error");
    }
  });
  return button;
}

function groupNode(group) {
  const node = $("#group-tpl").content.firstElementChild.cloneNode(true);
  node.querySelector(".kind").textContent = t(`kind_${group.kind}`);
  const badge = node.querySelector(".repealed");
  badge.hidden = group.status !== "repealed";
  badge.textContent = t("repealed");
  const link = node.querySelector(".title-link");
  link.textContent = group.title;
  link.lang = group.lang || "";
  if (/^https?:\/\//.test(group.url || "")) Object.assign(link, { href: group.url, rel: "noopener", target: "_blank" });
  node.querySelector(".authority").textContent = group.authority || "";
  const passages = node.querySelector(".passages");
  for (const p of group.passages.slice(0, 3)) {
    passages.append(el("div", { class: "passage" },
      el("p", { class: "text", lang: group.lang || null }, highlighted(p.text, p.highlights)),
      el("p", { class: "cite" }, el("span", { class: "cite-label", text: `${t("citation")}: ` }),
        el("cite", { text: p.citation }))));
  }
  const foot = node.querySelector(".group-foot");
  const links = el("span", { class: "links" });
  if (group.passages[0] && group.kind !== "service") links.append(articleToggle(node, group.passages[0]));
  if (link.href) links.append(el("a", { href: group.url, rel: "noopener", target: "_blank", text: t("source_link") }));
  foot.prepend(links);
  feedbackControls(node, group);
  return node;
}

async function showEmpty(q) {
  const box = $("#empty");
  const ul = el("ul", { class: "closest" });
  box.replaceChildren(
    el("h3", { text: t("none_title") }),
    el("p", { text: t("none_text", { q }) }),
    el("h4", { text: t("closest_services") }), ul,
    el("h4", { text: t("ask_person_title") }),
    el("p", { text: t("ask_person_text") }),
  );
  box.hidden = false;
  // The closest services: suggestions restricted to services, when the endpoint exists.
  try {
    const data = await api(`/v1/suggest?${new URLSearchParams({ q, k: 8 })}`);
    for (const s of (data.suggestions || []).filter((x) => x.kind === "service").slice(0, 4)) {
      const item = /^https?:\/\//.test(s.url || "") ? el("a", { href: s.url, rel: "noopener", text: s.title })
        : el("span", { text: s.title });
      ul.append(el("li", {}, item));
    }
  } catch { /* no suggestions: the list stays empty */ }
  if (!ul.childNodes.length) ul.previousSibling.remove(), ul.remove();
}

function render() {
  const { data } = state;
  if (!data) return;
  const groups = data.groups || [];
  const ref = data.reference;
  const note = ref && ref.status !== "found" && ref.message ? ` ${ref.message}` : "";
  statusLine.textContent = t("found", { n: fmtNumber(data.total_groups || 0) }) + note;
  $("#groups").replaceChildren(...groups.map(groupNode));
  $("#empty").hidden = true;
  if (!groups.length) showEmpty(state.q);
  const pages = Math.min(100, Math.ceil((data.total_groups || 0) / K));
  $("#pager").hidden = pages < 2;
  $("#page-info").textContent = t("page_of", { page: fmtNumber(state.page), pages: fmtNumber(pages) });
  $("#prev").disabled = state.page <= 1;
  $("#next").disabled = state.page >= pages;
}

$("#prev").addEventListener("click", () => turn(-1));
$("#next").addEventListener("click", () => turn(1));
async function turn(step) {
  await search(state.page + step);
  $("#groups").focus(); // keyboard and screen-reader users continue at the first result of the new page
}

onLangChange(() => { render(); if (!list.hidden) showList(); });

await initI18n();
const params = new URL(location.href).searchParams;
$("#f-lang").value = params.get("lang") || "";
$("#f-kind").value = params.get("kind") || "";
if (params.get("q")) {
  input.value = params.get("q");
  search(Number(params.get("page")) || 1);
}
