// The completeness audit for content owners: asks for the admin key (kept in sessionStorage), loads
// GET /v1/admin/audit/services, draws one SVG bar per authority and a sortable table of services.
import { $, el } from "/static/common.js";

const KEY = "xizmat.adminKey";
const ELEMENTS = ["eligibility", "documents", "fee", "time_limit", "result", "channels", "legal_act", "appeal"];
const MARK = { present: "✓", vague: "~", missing: "✗", contradictory: "≠" };
const RANK = { missing: 0, contradictory: 1, vague: 2, present: 3 };
const SVG = "http://www.w3.org/2000/svg";
let services = [];
let sort = { key: "score", dir: 1 };

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

const pct = (x) => (x * 100).toFixed(1);

function drawChart(authorities) {
  const row = 26, labelW = 420, barW = 360, h = authorities.length * row + 10;
  const chart = svg("svg", { viewBox: `0 0 ${labelW + barW + 60} ${h}`, role: "img",
    "aria-label": "Mean completeness score per authority" });
  authorities.forEach((a, i) => {
    const y = i * row + 5;
    const name = a.authority.length > 58 ? `${a.authority.slice(0, 57)}…` : a.authority;
    chart.append(svg("text", { x: 0, y: y + 15 }, `${name} (${a.services})`));
    chart.append(svg("rect", { class: "track", x: labelW, y, width: barW, height: 18 }));
    const bar = svg("rect", { class: "bar", x: labelW, y, width: (barW * a.mean_score).toFixed(1), height: 18 });
    bar.append(svg("title", {}, `${a.authority}: ${pct(a.mean_score)}; most missing: ${a.most_missing ?? "none"}`));
    chart.append(bar);
    chart.append(svg("text", { x: labelW + barW + 6, y: y + 15 }, pct(a.mean_score)));
  });
  $("#chart").replaceChildren(chart);
}

function value(s, key) {
  if (key === "score") return s.score;
  if (key === "title" || key === "authority" || key === "lang") return s[key].toLocaleLowerCase();
  return RANK[s.elements[key].status];
}

function drawTable() {
  const cols = [["score", "Score"], ["title", "Service"], ["authority", "Authority"], ["lang", "Lang"],
    ...ELEMENTS.map((e) => [e, e.replace("_", " ")])];
  $("#head").replaceChildren(...cols.map(([key, label]) => el("th", {
    scope: "col", "aria-sort": sort.key === key ? (sort.dir > 0 ? "ascending" : "descending") : null,
  }, el("button", { type: "button", text: label, onclick: () => {
    sort = { key, dir: sort.key === key ? -sort.dir : 1 };
    drawTable();
  } }))));
  const sorted = [...services].sort((a, b) => {
    const x = value(a, sort.key), y = value(b, sort.key);
    return (x < y ? -1 : x > y ? 1 : a.id.localeCompare(b.id)) * sort.dir;
  });
  $("#rows").replaceChildren(...sorted.map((s) => el("tr", {},
    el("td", { text: pct(s.score) }),
    el("td", {}, el("span", { text: s.title }), el("br"), el("span", { class: "detail", text: s.id })),
    el("td", { text: s.authority }),
    el("td", { text: s.lang }),
    ...ELEMENTS.map((e) => {
      const item = s.elements[e];
      return el("td", { class: `st ${item.status}`, title: item.explanation, tabindex: "0",
        "aria-label": `${e}: ${item.status}. ${item.explanation}` }, MARK[item.status]);
    }),
  )));
}

async function load(event) {
  event?.preventDefault();
  const key = $("#admin-key").value.trim() || sessionStorage.getItem(KEY) || "";
  if (!key) {
    $("#status").textContent = "Enter the admin key.";
    return;
  }
  sessionStorage.setItem(KEY, key);
  $("#admin-key").value = "";
  $("#status").textContent = "Loading…";
  const authority = $("#authority").value.trim();
  const url = `/v1/admin/audit/services${authority ? `?authority=${encodeURIComponent(authority)}` : ""}`;
  let response;
  try {
    response = await fetch(url, { headers: { Authorization: `Bearer ${key}` } });
  } catch {
    $("#status").textContent = "The server cannot be reached.";
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401 || response.status === 403) sessionStorage.removeItem(KEY);
    $("#status").textContent = `${body.error?.message ?? response.statusText} (${body.error?.code ?? response.status})`;
    return;
  }
  services = body.services;
  $("#status").textContent = `${body.count} services, ${body.authorities.length} authorities.`;
  drawChart(body.authorities);
  drawTable();
  $("#authorities").hidden = $("#services").hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  $("#key-form").addEventListener("submit", load);
  $("#forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    $("#status").textContent = "The key is forgotten.";
  });
  if (sessionStorage.getItem(KEY)) load();
});
