// Unanswered-question insights for content owners: asks for the admin key, keeps it in sessionStorage,
// sends it as `Authorization: Bearer`, shows the clusters of GET /v1/admin/insights/unanswered, offers CSV.
import { $, el } from "/static/common.js";

const KEY_STORAGE = "xizmat.adminKey";
const ROUTE = "/v1/admin/insights/unanswered";
const STRINGS = {
  en: {
    nav_search: "Search", nav_agent: "Agent console", nav_insights: "Unanswered questions",
    heading: "Questions nobody answers",
    lead: "Searches with no result and questions without an answer, grouped by meaning across languages and scripts, busiest and most recent first.",
    key_label: "Admin key", key_hint: "Kept in this browser tab only (sessionStorage) and sent as an Authorization header.",
    key_use: "Use key", key_forget: "Forget key", since: "Since", show: "Show", csv: "Download CSV",
    need_key: "Enter the admin key first.", loading: "Loading…", none: "No unanswered queries in this period.",
    found: "{n} unanswered queries in {c} clusters.", queries: "queries", query: "query", seen: "Seen", authority: "Nearest authority",
    services: "Nearest services", members: "Wordings", unauthorized: "The key was refused: use an admin key.",
    error: "The server answered with an error: {m}", forgotten: "The key was removed from this tab.",
  },
  "uz-Latn": {
    nav_search: "Qidiruv", nav_agent: "Operator pulti", nav_insights: "Javobsiz savollar",
    heading: "Hech kim javob bermagan savollar",
    lead: "Natija topilmagan qidiruvlar va javobsiz savollar, tillar va yozuvlardan qatʼi nazar maʼnosi boʻyicha guruhlangan: eng koʻp va eng yangilari birinchi.",
    key_label: "Administrator kaliti", key_hint: "Faqat shu brauzer oynasida saqlanadi (sessionStorage) va Authorization sarlavhasida yuboriladi.",
    key_use: "Kalitni qoʻllash", key_forget: "Kalitni unutish", since: "Sanadan", show: "Koʻrsatish", csv: "CSV yuklab olish",
    need_key: "Avval administrator kalitini kiriting.", loading: "Yuklanmoqda…", none: "Bu davrda javobsiz soʻrovlar yoʻq.",
    found: "{n} ta javobsiz soʻrov, {c} ta guruh.", queries: "soʻrov", query: "soʻrov", seen: "Koʻrilgan", authority: "Eng yaqin idora",
    services: "Eng yaqin xizmatlar", members: "Soʻrovlar", unauthorized: "Kalit rad etildi: administrator kalitidan foydalaning.",
    error: "Server xato qaytardi: {m}", forgotten: "Kalit bu oynadan oʻchirildi.",
  },
  ru: {
    nav_search: "Поиск", nav_agent: "Пульт оператора", nav_insights: "Вопросы без ответа",
    heading: "Вопросы, на которые нет ответа",
    lead: "Поиски без результата и вопросы без ответа, сгруппированные по смыслу независимо от языка и алфавита; сначала самые частые и свежие.",
    key_label: "Ключ администратора", key_hint: "Хранится только в этой вкладке (sessionStorage) и отправляется в заголовке Authorization.",
    key_use: "Применить", key_forget: "Забыть ключ", since: "С даты", show: "Показать", csv: "Скачать CSV",
    need_key: "Сначала введите ключ администратора.", loading: "Загрузка…", none: "За этот период вопросов без ответа нет.",
    found: "Запросов без ответа: {n}, групп: {c}.", queries: "запр.", query: "запр.", seen: "Период", authority: "Ближайшее ведомство",
    services: "Ближайшие услуги", members: "Формулировки", unauthorized: "Ключ отклонён: нужен ключ администратора.",
    error: "Сервер вернул ошибку: {m}", forgotten: "Ключ удалён из этой вкладки.",
  },
};
STRINGS["uz-Cyrl"] = STRINGS["uz-Latn"]; // the Latin strings until a Cyrillic translation is written

const lang = (() => {
  const wanted = new URLSearchParams(location.search).get("hl") || localStorage.getItem("xizmat.hl") || "en";
  return STRINGS[wanted] ? wanted : "en";
})();
const s = (key, vars = {}) => (STRINGS[lang][key] ?? STRINGS.en[key]).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

function applyStrings() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-s]")) node.textContent = s(node.dataset.s);
}

const status = (text) => { $("#status").textContent = text; };
const storedKey = () => sessionStorage.getItem(KEY_STORAGE) || "";

async function call(format) {
  const key = storedKey();
  if (!key) { status(s("need_key")); $("#admin-key").focus(); return null; }
  const params = new URLSearchParams({ format });
  const since = $("#since").value;
  if (since) params.set("since", since);
  const res = await fetch(`${ROUTE}?${params}`, { headers: { Authorization: `Bearer ${key}` }, cache: "no-store" });
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try { message = (await res.json()).error?.message || message; } catch { /* not JSON */ }
    status(res.status === 401 || res.status === 403 ? `${s("unauthorized")} (${message})` : s("error", { m: message }));
    return null;
  }
  return res;
}

function clusterItem(c, rank) {
  const langs = Object.entries(c.languages).map(([k, v]) => `${k} ${v}`).join(", ");
  const members = el("ul", { class: "members" },
    ...c.members.map((m) => el("li", {}, el("span", { class: "kind", text: `${m.lang} ×${m.count}` }), " ", m.text)));
  const services = c.services.length
    ? el("p", { class: "cite" }, `${s("services")}: `, c.services.map((x) => x.title).join("; "))
    : null;
  return el("li", { class: "group cluster", "data-cluster": c.id },
    el("div", { class: "group-head" },
      el("h3", { text: `${rank}. ${c.representative}` }),
      el("span", { class: "badge count", text: `${c.count} ${s(c.count === 1 ? "query" : "queries")}` }),
      el("span", { class: "kind", text: langs })),
    el("p", { class: "authority", text: `${s("authority")}: ${c.authority || "—"}` }),
    el("p", { class: "cite", text: `${s("seen")}: ${c.first_seen.slice(0, 10)} — ${c.last_seen.slice(0, 10)}` }),
    services,
    el("details", {}, el("summary", { text: `${s("members")} (${c.members.length})` }), members));
}

async function show() {
  status(s("loading"));
  const res = await call("json");
  if (!res) return;
  const data = await res.json();
  $("#clusters").replaceChildren(...data.clusters.map((c, i) => clusterItem(c, i + 1)));
  status(data.clusters.length ? s("found", { n: data.queries, c: data.clusters.length }) : s("none"));
}

async function downloadCsv() {
  const res = await call("csv");
  if (!res) return;
  const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "")?.[1] || "unanswered.csv";
  const url = URL.createObjectURL(await res.blob());
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

applyStrings();
$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $("#admin-key").value.trim());
  $("#admin-key").value = "";
  show();
});
$("#forget-key").addEventListener("click", () => {
  sessionStorage.removeItem(KEY_STORAGE);
  $("#clusters").replaceChildren();
  status(s("forgotten"));
});
$("#filter-form").addEventListener("submit", (event) => { event.preventDefault(); show(); });
$("#csv").addEventListener("click", downloadCsv);
if (storedKey()) show();
