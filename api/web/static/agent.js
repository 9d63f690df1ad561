// The call-centre console: a question, the extractive answer with citations, the article beside it.
import {
  $, api, articleIdOf, copyText, el, errorText, fmtNumber, initI18n, loadArticle, onLangChange,
  sendFeedback, t,
} from "/static/common.js";

const statusLine = $("#status");
const state = { data: null, seq: 0, answered: new Set(), article: null };

function filters() {
  const out = {};
  for (const [name, sel] of [["lang", "#f-lang"], ["kind", "#f-kind"], ["status", "#f-status"]]) {
    if ($(sel).value) out[name] = $(sel).value;
  }
  return out;
}

async function ask() {
  const question = $("#question").value.trim();
  if (!question) {
    statusLine.textContent = t("empty_question");
    $("#question").focus();
    return;
  }
  const seq = ++state.seq;
  statusLine.textContent = t("asking");
  $("#ask-form button[type=submit]").disabled = true;
  try {
    const data = await api("/v1/ask", { method: "POST", body: { question, filters: filters() } });
    if (seq !== state.seq) return;
    state.data = data;
    render();
  } catch (err) {
    if (seq !== state.seq) return;
    state.data = null;
    render();
    statusLine.textContent = errorText(err);
  } finally {
    $("#ask-form button[type=submit]").disabled = false;
  }
}

$("#ask-form").addEventListener("submit", (e) => { e.preventDefault(); ask(); });
$("#question").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); ask(); }
});

async function openArticle(item) {
  const panel = $("#article");
  const body = $("#article-body");
  state.article = item;
  body.replaceChildren(el("p", { class: "hint", text: t("article_loading") }));
  // Side by side on a desktop; on a phone the article is below the answer, so bring it into view.
  if (matchMedia("(max-width: 760px)").matches) panel.scrollIntoView({ block: "start" });
  try {
    body.replaceChildren(await loadArticle(item.doc_id, articleIdOf(item)));
  } catch {
    body.replaceChildren(el("p", { class: "hint", text: t("article_error") }));
  }
  panel.focus({ preventScroll: true });
}

function passageNode(item) {
  const node = $("#passage-tpl").content.firstElementChild.cloneNode(true);
  node.querySelector(".quote").textContent = item.text;
  node.querySelector(".cite").replaceChildren(el("cite", { text: item.citation }));
  const done = node.querySelector(".done");
  const open = node.querySelector(".open");
  open.textContent = t("open_article");
  open.addEventListener("click", () => openArticle(item));
  const copy = node.querySelector(".copy");
  copy.textContent = t("copy_citation");
  copy.addEventListener("click", async () => {
    done.textContent = (await copyText(item.citation)) ? t("copied") : t("copy_failed");
  });
  const answered = node.querySelector(".answered");
  const key = `${state.data.query_id}|${item.ref}`;
  answered.textContent = t("answered_caller");
  answered.setAttribute("aria-pressed", String(state.answered.has(key)));
  answered.disabled = state.answered.has(key);
  answered.addEventListener("click", async () => {
    answered.disabled = true;
    try {
      await sendFeedback({ query_id: state.data.query_id, result_id: item.ref, helpful: true, answered_caller: true });
      state.answered.add(key);
      answered.setAttribute("aria-pressed", "true");
      done.textContent = t("answered_thanks");
    } catch {
      answered.disabled = false;
      done.textContent = t("feedback_error");
    }
  });
  return node;
}

function render() {
  const data = state.data;
  $("#answer").hidden = !data || data.no_answer;
  $("#no-answer").hidden = !data || !data.no_answer;
  const services = data?.services || [];
  $("#services").hidden = !services.length;
  $("#service-list").replaceChildren(...services.map((s) => el("li", {},
    /^https?:\/\//.test(s.url || "") ? el("a", { href: s.url, rel: "noopener", target: "_blank", text: s.title })
      : el("b", { text: s.title }),
    s.authority ? el("span", { class: "hint", text: ` — ${s.authority}` }) : null)));
  if (!data) return;
  statusLine.textContent = "";
  if (data.no_answer) {
    const key = `reason_${data.reason}`;
    $("#reason").textContent = t(key) === key ? t("reason_unknown") : t(key);
    $("#reason-detail").textContent = data.message || "";
    const candidates = data.candidates || [];
    $("#candidates").replaceChildren(...(candidates.length ? [
      el("h3", { text: t("candidates_heading") }),
      el("ul", {}, ...candidates.map((c) => el("li", {}, el("b", { text: c.title }),
        c.first_article ? ` — ${t("candidate_range", { first: c.first_article, last: c.last_article })}` : ""))),
    ] : []));
    return;
  }
  $("#confidence").textContent = t("confidence", { p: fmtNumber(data.confidence || 0, { style: "percent" }) });
  $("#passages").replaceChildren(...(data.answer || []).map(passageNode));
}

onLangChange(() => {
  render();
  if (state.article) openArticle(state.article);
});

await initI18n();
const asked = new URL(location.href).searchParams.get("question");
if (asked) {
  $("#question").value = asked;
  ask();
}
