// The agency counter (/counter): a clerk offers a credential to a citizen over OpenID4VCI
// (docs/oid4vci.md). The agency API key lives in this tab's sessionStorage only; the offer
// is shown as the service's QR code (GET /oid4vci/offers/{id}/qr, same origin) with the PIN
// apart (shown once), and followed with GET /oid4vci/offers/{id}/status until issued.
import { $, api, el, formatTime, keyForm, label, problemText, setVerdict, t } from "./common.js";

const KEY = "identity-counter-agency-key";
const POLL_MS = 1500;
const FINAL = new Set(["issued", "locked", "expired"]);
const PROGRESS_STATE = {
  offered: "", redeemed: "", approved: "", awaiting_approval: "warn",
  issued: "ok", locked: "bad", expired: "bad",
};
let types = [];
let shown = null; // {offerId, deferred, approved}
let timer = null;

const agencyKey = () => sessionStorage.getItem(KEY);

function showKeyState() {
  const set = Boolean(agencyKey());
  $("key-form").hidden = set;
  $("key-set").hidden = !set;
  $("offer-panel").hidden = !set || shown !== null;
}

function forgetKey() {
  sessionStorage.removeItem(KEY);
  stopPolling();
  shown = null;
  $("shown-offer").hidden = true;
  clearPin(false);
  showKeyState();
  $("api-key").focus();
}

// -- the form, from the registered types -------------------------------------------------

async function loadTypes() {
  const answer = await api("/credential-types");
  if (!answer.ok) return setVerdict($("offer-error"), "bad", t("verdict_error", { detail: problemText(answer.body) }));
  types = answer.body;
  $("type").replaceChildren(...types.map((type) => el("option", { value: type.type }, label(type.display, type.title || type.type))));
  renderFields();
}

function chosenType() { return types.find((type) => type.type === $("type").value); }

// One input per property of the type's schema (but `id`: the holder's DID becomes it).
function renderFields() {
  const type = chosenType();
  if (!type) return;
  const schema = type.schema || {};
  const required = new Set(schema.required || []);
  const fields = [];
  for (const [name, property] of Object.entries(schema.properties || {})) {
    if (name === "id") continue;
    const id = `claim-${name}`;
    const text = label((type.claimDisplay || {})[name], name) + (required.has(name) ? " *" : "");
    let input;
    if (Array.isArray(property.enum)) {
      input = el("select", { id, "data-claim": name },
        el("option", { value: "" }, t("counter_claim_none")),
        property.enum.map((value) => el("option", { value: String(value) }, String(value))));
    } else if (property.type === "boolean") {
      fields.push(el("label", { class: "check" }, el("input", { type: "checkbox", id, "data-claim": name, "data-kind": "boolean" }), text));
      continue;
    } else {
      const kind = property.type === "number" || property.type === "integer" ? "number" : property.format === "date" ? "date" : "text";
      input = el("input", { id, type: kind, "data-claim": name, "data-kind": property.type || "string", autocomplete: "off", spellcheck: "false", required: required.has(name) });
    }
    fields.push(el("label", { for: id }, text), input);
  }
  $("claim-fields").replaceChildren(...fields);
}

// The claims: the JSON box when filled in, else the fields (empty ones left out).
function readClaims() {
  const json = $("claims-json").value.trim();
  if (json) {
    let value;
    try { value = JSON.parse(json); } catch { throw new Error(t("counter_claims_not_json")); }
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(t("counter_claims_not_json"));
    return value;
  }
  const claims = {};
  for (const input of $("claim-fields").querySelectorAll("[data-claim]")) {
    const name = input.dataset.claim;
    if (input.dataset.kind === "boolean") { if (input.checked) claims[name] = true; continue; }
    const value = input.value.trim();
    if (!value) continue;
    claims[name] = input.dataset.kind === "number" || input.dataset.kind === "integer" ? Number(value) : value;
  }
  return claims;
}

function offerBody() {
  const formats = ["format-sd-jwt", "format-ldp"].filter((id) => $(id).checked).map((id) => $(id).value);
  if (!formats.length) throw new Error(t("counter_no_format"));
  const body = { type: $("type").value, claims: readClaims(), formats, txCode: $("use-pin").checked, deferred: $("deferred").checked };
  const subject = $("subject").value.trim();
  if (subject) body.subject = subject;
  // The last second of the chosen day, UTC (docs/web.md).
  if ($("valid-until").value) body.validUntil = `${$("valid-until").value}T23:59:59Z`;
  if (formats.includes("ldp_vc") && $("cryptosuite").value) body.cryptosuite = $("cryptosuite").value;
  return body;
}

async function createOffer(event) {
  event.preventDefault();
  let body;
  try { body = offerBody(); } catch (error) { return setVerdict($("offer-error"), "bad", error.message); }
  setVerdict($("offer-error"), "", t("counter_creating"));
  const answer = await api("/oid4vci/offers", { method: "POST", body, token: agencyKey() });
  if (answer.status === 401) {
    forgetKey();
    return setVerdict($("offer-error"), "bad", t("counter_key_refused", { detail: problemText(answer.body) }));
  }
  if (!answer.ok) return setVerdict($("offer-error"), "bad", t("counter_offer_refused", { detail: problemText(answer.body) }));
  setVerdict($("offer-error"), "", "");
  showOffer(answer.body, body);
}

// -- the offer on screen --------------------------------------------------------------------

// The path of one of the service's own URLs: the code is fetched from this origin.
function samePath(url) {
  const parsed = new URL(url, window.location.href);
  return parsed.pathname + parsed.search;
}

function showOffer(answer, body) {
  shown = { offerId: answer.offerId, deferred: answer.deferred, approved: false };
  $("offer-qr").src = samePath(answer.qr.svg);
  $("qr-box").hidden = false;
  $("same-device").href = answer.offerUri;
  $("offer-uri").textContent = answer.offerUri;
  const type = types.find((x) => x.type === body.type);
  const facts = [
    el("dt", {}, t("claims_type")), el("dd", {}, type ? label(type.display, body.type) : body.type),
    el("dt", {}, t("counter_formats")), el("dd", {}, body.formats.join(", ")),
    el("dt", {}, t("counter_expires")), el("dd", {}, formatTime(answer.expiresAt)),
  ];
  if (body.subject) facts.push(el("dt", {}, t("counter_subject")), el("dd", {}, el("code", {}, body.subject)));
  $("offer-facts").replaceChildren(...facts);
  if (answer.txCode) {
    $("pin").textContent = answer.txCode;
    $("pin-box").hidden = false;
    $("pin-gone").hidden = true;
  } else {
    clearPin(false);
  }
  $("approve").hidden = !answer.deferred;
  $("offer-panel").hidden = true;
  $("shown-offer").hidden = false;
  showProgress({ progress: "offered", deferred: answer.deferred, approved: false });
  startPolling();
}

// The PIN is shown once: hidden, it is gone from the page and cannot be shown again.
function clearPin(said = true) {
  $("pin").textContent = "";
  $("pin-box").hidden = true;
  $("pin-gone").hidden = !said;
}

function showProgress(status) {
  const word = status.progress;
  const text = word === "locked" ? t("counter_progress_locked")
    : t("counter_progress_" + word, { issued: (status.issued || []).length, of: (status.configurations || []).length });
  setVerdict($("progress"), PROGRESS_STATE[word] ?? "", text);
  $("progress").dataset.progress = word;
  if (word !== "offered") {
    $("qr-box").hidden = true; // the code is used (or dead): nothing left to scan
    if (!$("pin-box").hidden) clearPin();
  }
  shown.approved = Boolean(status.approved);
  $("approve").hidden = !(status.deferred && !status.approved) || FINAL.has(word);
}

async function poll() {
  if (!shown) return;
  const answer = await api(`/oid4vci/offers/${encodeURIComponent(shown.offerId)}/status`, { token: agencyKey(), cache: "no-store" });
  if (!shown) return;
  if (answer.ok) {
    showProgress(answer.body);
    if (FINAL.has(answer.body.progress)) return stopPolling();
  } else if (answer.status === 401) {
    return forgetKey();
  }
  timer = setTimeout(poll, POLL_MS);
}

function startPolling() { stopPolling(); timer = setTimeout(poll, POLL_MS); }
function stopPolling() { if (timer) clearTimeout(timer); timer = null; }

async function approve() {
  if (!shown) return;
  const answer = await api(`/oid4vci/offers/${encodeURIComponent(shown.offerId)}/approve`, { method: "POST", token: agencyKey() });
  if (!answer.ok) return setVerdict($("progress"), "bad", t("counter_approve_failed", { detail: problemText(answer.body) }));
  $("approve").hidden = true;
  stopPolling();
  await poll();
}

function newOffer() {
  stopPolling();
  shown = null;
  clearPin(false);
  $("shown-offer").hidden = true;
  $("offer-form").reset();
  renderFields();
  showKeyState();
  $("type").focus();
}

keyForm("key-form", "api-key", KEY, () => {
  showKeyState();
  if (!types.length) loadTypes();
  $("type").focus();
});
$("forget-key").addEventListener("click", forgetKey);
$("type").addEventListener("change", renderFields);
$("offer-form").addEventListener("submit", createOffer);
$("hide-pin").addEventListener("click", () => clearPin());
$("approve").addEventListener("click", approve);
$("new-offer").addEventListener("click", newOffer);

showKeyState();
if (agencyKey()) loadTypes();
