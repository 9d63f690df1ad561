// Shared by both pages: interface language, Intl formatting, the API, safe rendering of document text.
export const LANGS = [["uz-Latn", "Oʻzbekcha"], ["uz-Cyrl", "Ўзбекча"], ["ru", "Русский"], ["en", "English"]];
const LOCALES = { "uz-Latn": "uz-Latn", "uz-Cyrl": "uz-Cyrl", ru: "ru", en: "en-GB" };
const OPTIONS = {
  doclang: ["", "uz-Latn", "uz-Cyrl", "ru", "en"],
  kind: ["", "code", "law", "decree", "resolution", "regulation", "service", "other"],
  status: ["", "in_force", "repealed"],
};
const STORAGE_KEY = "xizmat.hl";
let strings = {};
let lang = "uz-Latn";
const listeners = [];

export const $ = (sel) => document.querySelector(sel);
export const currentLang = () => lang;

/** The UI string `key` in the interface language, with {name} placeholders filled. */
export function t(key, vars = {}) {
  const s = strings[lang]?.[key] ?? strings.en?.[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

// Chromium ships no Uzbek Latin locale data (Intl falls back to "2017 M09 11", "12,345.5"), so Uzbek
// Latin borrows Russian number separators, which CLDR gives Uzbek too, and spells its months itself.
const NUMBER_LOCALES = { ...LOCALES, "uz-Latn": "ru" };
const UZ_MONTHS = ["yanvar", "fevral", "mart", "aprel", "may", "iyun", "iyul", "avgust", "sentabr", "oktabr",
  "noyabr", "dekabr"];

export const fmtNumber = (n, opts) => new Intl.NumberFormat(NUMBER_LOCALES[lang], opts).format(n);

export function fmtDate(iso) {
  const d = new Date(`${iso}T00:00:00`);
  if (Number.isNaN(d.getTime())) return iso;
  if (lang === "uz-Latn") return `${d.getDate()}-${UZ_MONTHS[d.getMonth()]}, ${d.getFullYear()}-yil`;
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: "long" }).format(d);
}

/** A new element with properties (class, text, attributes) and children; text is never parsed as HTML. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** Document text with [start, end) code-point ranges wrapped in <mark>, built as DOM nodes. */
export function highlighted(text, ranges = []) {
  const chars = Array.from(text); // the API counts code points, JavaScript counts UTF-16 units
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const [s, e] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const start = Math.max(s, at);
    const end = Math.min(e, chars.length);
    if (end <= start) continue;
    if (start > at) frag.append(chars.slice(at, start).join(""));
    frag.append(el("mark", { text: chars.slice(start, end).join("") }));
    at = end;
  }
  if (at < chars.length) frag.append(chars.slice(at).join(""));
  return frag;
}

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message || code);
    Object.assign(this, { status, code, retryAfter });
  }
}

/** Call the API; a non-2xx answer becomes an ApiError with the API's error code. */
export async function api(path, { method = "GET", body, signal } = {}) {
  const init = { method, signal, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = "";
    try {
      const data = await res.json();
      code = data.error?.code ?? code;
      message = data.error?.message ?? "";
    } catch { /* not JSON: keep the status */ }
    throw new ApiError(res.status, code, message, res.headers.get("Retry-After"));
  }
  return res.json();
}

export function errorText(err) {
  return err?.status === 429 ? t("error_busy", { s: err.retryAfter || 30 }) : t("error_generic");
}

export const sendFeedback = (body) => api("/v1/feedback", { method: "POST", body });

/** Copy with the Clipboard API, or with a hidden textarea where that is refused or absent. */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* permission refused: fall back */ }
  const area = el("textarea", { readonly: true, class: "offscreen" });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch { ok = false; }
  area.remove();
  return ok;
}

/** The article of a passage: the API gives `article_id`, or the part of `ref` after "::". */
export const articleIdOf = (p) => p.article_id || String(p.ref || "").split("::").pop();

/** The whole article, with the act's dates when the document answers, as DOM nodes. */
export async function loadArticle(docId, articleId) {
  const enc = encodeURIComponent;
  const [article, doc] = await Promise.all([
    api(`/v1/documents/${enc(docId)}/articles/${enc(articleId)}`),
    api(`/v1/documents/${enc(docId)}`).catch(() => null),
  ]);
  const box = el("div", { class: "article-text", lang: doc?.lang || null });
  box.append(el("h3", { text: article.citation }));
  if (article.title) box.append(el("p", { class: "article-title", text: article.title }));
  const where = [article.section, article.chapter].filter(Boolean).join(" › ");
  if (where) box.append(el("p", { class: "hint", text: where }));
  if (doc) {
    const meta = el("p", { class: "meta" });
    if (doc.adopted) meta.append(el("span", { text: t("adopted", { date: fmtDate(doc.adopted) }) }));
    if (doc.status === "repealed") {
      meta.append(el("span", { class: "badge repealed", text: doc.status_date
        ? t("repealed_on", { date: fmtDate(doc.status_date) }) : t("repealed") }));
    }
    if (meta.childNodes.length) box.append(meta);
  }
  for (const para of String(article.text || "").split(/\n+/)) if (para.trim()) box.append(el("p", { text: para }));
  if (!article.text && article.points?.length) {
    box.append(el("ol", { class: "points" }, ...article.points.map((p) =>
      el("li", {}, el("b", { text: `${p.number}) ` }), p.text))));
  }
  return box;
}

function fillSelect(select) {
  const kind = select.dataset.options;
  const value = select.value;
  select.replaceChildren(...OPTIONS[kind].map((v) =>
    el("option", { value: v, text: t(`${kind}_${v || "any"}`) })));
  select.value = value;
}

function applyStrings() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      node.setAttribute(attr, t(key));
    }
  }
  for (const select of document.querySelectorAll("select[data-options]")) fillSelect(select);
  for (const button of document.querySelectorAll(".langs button")) {
    button.setAttribute("aria-pressed", String(button.lang === lang));
  }
}

export function setLang(code) {
  if (!(code in LOCALES)) return;
  lang = code;
  try { localStorage.setItem(STORAGE_KEY, code); } catch { /* private mode */ }
  const url = new URL(location.href);
  url.searchParams.set("hl", code);
  history.replaceState(history.state, "", url);
  applyStrings();
  for (const fn of listeners) fn(code);
}

export const onLangChange = (fn) => listeners.push(fn);

function initialLang() {
  const asked = new URL(location.href).searchParams.get("hl");
  let stored = null;
  try { stored = localStorage.getItem(STORAGE_KEY); } catch { /* private mode */ }
  for (const code of [asked, stored]) if (code in LOCALES) return code;
  for (const pref of navigator.languages || []) {
    if (/^uz-cyrl/i.test(pref)) return "uz-Cyrl";
    if (/^(uz|ru|en)/i.test(pref)) return pref.slice(0, 2).toLowerCase() === "uz" ? "uz-Latn" : pref.slice(0, 2).toLowerCase();
  }
  return "uz-Latn";
}

/** Load the strings, draw the language switcher and translate the page. */
export async function initI18n() {
  strings = await (await fetch("/static/i18n.json")).json();
  const box = $(".langs");
  box.replaceChildren(...LANGS.map(([code, name]) =>
    el("button", { type: "button", lang: code, "aria-pressed": "false", text: name, onclick: () => setLang(code) })));
  lang = initialLang();
  applyStrings();
}
