// Shared by the pages: the catalogue of texts, a tiny element builder, the API caller.

const catalogue = JSON.parse(document.getElementById("catalogue").textContent);

// The text for `key` in the page's language, with {name} placeholders filled in.
export function t(key, vars = {}) {
  const text = catalogue[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

export function has(key) { return key in catalogue; }

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (id) => document.getElementById(id);

// fetch() against this origin only; the body is JSON (or problem+json) or text.
export async function api(path, { method = "GET", body, token, headers = {}, raw = false, cache = "default" } = {}) {
  const init = { method, headers: { ...headers }, credentials: "same-origin", cache };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (token) init.headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, init);
  if (raw) return response;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  return { ok: response.ok, status: response.status, body: data };
}

// A problem document's sentence for people, or a generic one.
// An API key form: on submit the key leaves the page at once (the input is cleared) and
// is kept in the tab's sessionStorage under storageKey only; then onKey() runs.
export function keyForm(formId, inputId, storageKey, onKey) {
  $(formId).addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $(inputId).value.trim();
    $(inputId).value = "";
    if (!value) return;
    sessionStorage.setItem(storageKey, value);
    onKey();
  });
}

// A display name in the page's language (a registered type's names), English, or fallback.
export function label(names, fallback) {
  const language = document.documentElement.lang;
  return (names && (names[language] || names.en)) || fallback;
}

export function problemText(body) {
  if (body && typeof body === "object") return body.detail || body.title || t("error_generic");
  return t("error_generic");
}

export function setVerdict(node, state, text) {
  node.className = "verdict" + (state ? " " + state : "");
  node.textContent = text;
}

// A check mark: passed, failed, skipped or pending, with a text alternative.
export function mark(state) {
  const symbol = { passed: "✓", failed: "✗", skipped: "–", pending: "…" }[state];
  return el("span", { class: `mark ${state}`, role: "img", "aria-label": t("mark_" + state) }, symbol);
}

export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(document.documentElement.lang, { dateStyle: "medium", timeStyle: "short" });
}

export function download(name, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
