// The verifier page's "Ask a wallet (OpenID4VP)" mode (docs/oid4vp.md, docs/web.md): the
// clerk picks a credential type and the claims to see; the page builds the DCQL query,
// creates the request (POST /oid4vp/requests, verifier API key kept in this tab's
// sessionStorage only), shows its QR code (cross-device) and an openid4vp:// link (same
// device), polls GET /oid4vp/requests/{id}/result, and shows the verdict, the checks and
// exactly the disclosed claims with verify.js's own renderers -- or, at once, a wallet's
// answer the service refused (while still waiting for a correct one).
import { $, api, el, formatTime, keyForm, label, problemText, setVerdict, t } from "./common.js";
import { PRESENTATION_CHECKS, SD_JWT_CHECKS, checkItem, renderChecks, showClaims, showDisclosed } from "./verify.js";

const KEY = "identity-verify-verifier-key";
const PENDING = "identity-verify-oid4vp-request"; // a same-device request, for the return
const POLL_MS = 1500;
const QUERY_ID = "credential"; // the one Credential Query this page asks
// What counters usually ask (a type and its claims); offered when the type is registered.
const TEMPLATES = {
  residence: ["ResidencePermitCredential", ["fullName", "residenceAddress"]],
  birthDate: ["ResidencePermitCredential", ["dateOfBirth"]],
  business: ["BusinessLicenceCredential", ["companyName", "unifiedSocialCreditCode", "legalRepresentative"]],
  qualification: ["ProfessionalQualificationCredential", ["fullName", "qualification", "qualificationLevel"]],
  health: ["HealthCertificateCredential", ["fullName", "examinationDate", "examinationResult"]],
};
let types = [];
let asked = null; // {id, type, format, names}
let timer = null;
let qrUrl = null;

const verifierKey = () => sessionStorage.getItem(KEY);
const verdict = (state, text) => setVerdict($("verdict"), state, text);

function showKeyState() {
  const set = Boolean(verifierKey());
  $("vp-key-form").hidden = set;
  $("vp-key-hint").hidden = set;
  $("vp-key-set").hidden = !set;
  $("vp-form").hidden = !set || asked !== null;
}

function forgetKey() {
  sessionStorage.removeItem(KEY);
  reset();
  $("vp-key").focus();
}

async function loadTypes() {
  const answer = await api("/credential-types");
  if (!answer.ok) return verdict("bad", t("verdict_error", { detail: problemText(answer.body) }));
  types = answer.body;
  $("vp-type").replaceChildren(...types.map((type) => el("option", { value: type.type }, label(type.display, type.title || type.type))));
  const known = new Set(types.map((type) => type.type));
  $("vp-template").replaceChildren($("vp-template").options[0],
    ...Object.entries(TEMPLATES).filter(([, [type]]) => known.has(type))
      .map(([name]) => el("option", { value: name }, t("vp_template_" + name))));
  renderClaims();
}

// A template chooses the type and ticks its claims; the clerk may still change them.
function applyTemplate() {
  const chosen = TEMPLATES[$("vp-template").value];
  if (!chosen) return;
  const [type, claims] = chosen;
  $("vp-type").value = type;
  $("vp-format").value = "dc+sd-jwt";
  renderClaims();
  for (const name of claims) {
    const box = $(`vp-claim-${name}`);
    if (box) box.checked = true;
  }
}

// A box per claim of the type's schema (but `id`): the claims the clerk asks to see.
function renderClaims() {
  const type = types.find((x) => x.type === $("vp-type").value);
  if (!type) return;
  const names = Object.keys((type.schema || {}).properties || {}).filter((name) => name !== "id");
  $("vp-claims").replaceChildren(...names.map((name) => el("label", { class: "check" },
    el("input", { type: "checkbox", id: `vp-claim-${name}`, "data-claim": name }),
    label((type.claimDisplay || {})[name], name))));
}

// The DCQL query (OpenID4VP §6): one Credential Query for the type, in the chosen format,
// asking for exactly the ticked claims.
async function dcqlQuery(type, format, names) {
  const query = { id: QUERY_ID, format };
  if (format === "dc+sd-jwt") {
    const metadata = await api(`/vct/${encodeURIComponent(type)}`);
    if (!metadata.ok) throw new Error(problemText(metadata.body));
    query.meta = { vct_values: [metadata.body.vct] };
    query.claims = names.map((name) => ({ path: [name] }));
  } else {
    query.meta = { type_values: [["VerifiableCredential", type]] };
    query.claims = names.map((name) => ({ path: ["credentialSubject", name] }));
  }
  return { credentials: [query] };
}

function clearResult() {
  $("checks").replaceChildren();
  $("claims").replaceChildren();
}

async function ask(event) {
  event.preventDefault();
  clearResult();
  const type = $("vp-type").value;
  const format = $("vp-format").value;
  const names = [...$("vp-claims").querySelectorAll("input:checked")].map((input) => input.dataset.claim);
  if (!names.length) return verdict("bad", t("vp_no_claims"));
  verdict("", t("vp_creating"));
  let query;
  try { query = await dcqlQuery(type, format, names); } catch (error) { return verdict("bad", t("verdict_error", { detail: error.message })); }
  const body = { dcql_query: query };
  // Same device (OpenID4VP §8.2): the wallet sends the citizen back here with a
  // response_code in the fragment, without which the result is not released.
  const comeBack = $("vp-return").checked;
  if (comeBack) body.redirectUri = `${window.location.origin}${window.location.pathname}`;
  const answer = await api("/oid4vp/requests", { method: "POST", body, token: verifierKey() });
  if (answer.status === 401) {
    forgetKey();
    return verdict("bad", t("vp_key_refused", { detail: problemText(answer.body) }));
  }
  if (!answer.ok) return verdict("bad", t("vp_request_refused", { detail: problemText(answer.body) }));
  const request = answer.body;
  // The code needs the verifier key: fetched here and shown from a blob: URL.
  const qr = await api(`/oid4vp/requests/${encodeURIComponent(request.id)}/qr?format=svg`, { token: verifierKey(), raw: true });
  if (!qr.ok) return verdict("bad", t("vp_request_refused", { detail: qr.statusText }));
  if (qrUrl) URL.revokeObjectURL(qrUrl);
  qrUrl = URL.createObjectURL(await qr.blob());
  asked = { id: request.id, type, format, names };
  if (comeBack) sessionStorage.setItem(PENDING, JSON.stringify(asked));
  $("vp-qr").src = qrUrl;
  $("vp-qr-box").hidden = false;
  $("vp-same-device").href = request.authorizationRequest;
  const typeName = label((types.find((x) => x.type === type) || {}).display, type);
  $("vp-facts").replaceChildren(
    el("dt", {}, t("vp_asked_type")), el("dd", {}, typeName),
    el("dt", {}, t("vp_asked_claims")), el("dd", {}, names.map(claimName).join(", ")),
    el("dt", {}, t("vp_expires")), el("dd", {}, formatTime(request.expires)));
  $("vp-form").hidden = true;
  $("vp-request").hidden = false;
  $("vp-request").dataset.requestId = request.id;
  verdict("", t("vp_waiting"));
  startPolling();
}

function claimName(name) {
  const type = types.find((x) => x.type === (asked && asked.type));
  return label(((type && type.claimDisplay) || {})[name], name);
}

async function poll() {
  if (!asked) return;
  const id = asked.id;
  const answer = await api(`/oid4vp/requests/${encodeURIComponent(id)}/result`, { token: verifierKey(), cache: "no-store" });
  if (!asked || asked.id !== id) return;
  if (answer.status === 401) return forgetKey();
  if (!answer.ok && answer.body && answer.body.field === "response_code") {
    stopPolling(); // answered on the citizen's device: its result waits for the return here
    return verdict("", t("vp_answered_same_device"));
  }
  if (!answer.ok) { stopPolling(); return verdict("bad", t("verdict_error", { detail: problemText(answer.body) })); }
  const body = answer.body;
  if (body.status === "answered") { stopPolling(); return showResult(body); }
  if (body.status === "expired") {
    stopPolling();
    $("vp-qr-box").hidden = true;
    $("checks").replaceChildren(checkItem("vpRequest", "failed", [[t("check_vpRequest_expired")]]));
    return verdict("bad", t("vp_expired"));
  }
  if (body.refusedCount) showRefused(body);
  else verdict("", t(body.status === "fetched" ? "vp_fetched" : "vp_waiting"));
  timer = setTimeout(poll, POLL_MS);
}

// A wallet's answer the service refused (docs/oid4vp.md "Refused answers"): a failed
// verdict naming the error and the failed check at once; the request stays open, so the
// page keeps polling and a correct answer that follows still shows verified.
function showRefused(body) {
  const last = body.refusals[body.refusals.length - 1];
  const check = (last.cause || last.check || "").split("/").pop();
  $("claims").replaceChildren();
  $("checks").replaceChildren(checkItem("vpRequest", "failed", [
    [t("check_vpRequest_answer_refused", { count: body.refusedCount })],
    [t("check_vpRequest_failed_check", { check })],
    [last.error_description, "error"]]));
  $("checks").dataset.refusedCount = String(body.refusedCount);
  verdict("bad", t("vp_answer_refused", { error: last.error, check }));
}

function startPolling() { stopPolling(); timer = setTimeout(poll, POLL_MS); }
function stopPolling() { if (timer) clearTimeout(timer); timer = null; }

// The answer, shown as the page shows any verification: the verdict in #verdict, every
// check in #checks, exactly what was disclosed in #claims.
async function showResult(body) {
  delete $("checks").dataset.refusedCount;
  $("vp-qr-box").hidden = true; // answered: the code is spent
  if (!body.verified) {
    $("claims").replaceChildren();
    const reason = [body.error, body.error_description].filter(Boolean).join(": ");
    $("checks").replaceChildren(checkItem("vpRequest", "failed", [[t("check_vpRequest_refused")], [reason, "error"]]));
    return verdict("bad", t("vp_refused", { error: body.error || "" }));
  }
  const entry = ((body.credentials || {})[QUERY_ID] || [])[0];
  if (!entry) return verdict("bad", t("verdict_error", { detail: t("error_generic") }));
  const answered = checkItem("vpRequest", "passed", [[t("check_vpRequest_ok", { claims: asked.names.map(claimName).join(", ") })]]);
  if (entry.format === "dc+sd-jwt") {
    const passed = { wellFormed: { valid: true } };
    for (const [name, result] of Object.entries(entry.results || {})) if (result) passed[name] = { valid: true, ...result };
    // The counter accepts accredited issuers only, as for a credential shown on this page.
    const untrusted = passed.issuerTrust && !passed.issuerTrust.accredited;
    if (untrusted) passed.issuerTrust = { valid: false, error: { title: passed.issuerTrust.type || "", detail: passed.issuerTrust.reason || "" } };
    await renderChecks(SD_JWT_CHECKS, passed, { format: "sd-jwt", issuer: entry.issuer }, true);
    const validity = $("checks").querySelector('[data-check="validity"] .check-detail');
    if (validity) validity.textContent = t("check_validity_vp_ok");
    $("checks").append(answered);
    await showDisclosed({ results: entry.results || {}, disclosed: entry.disclosed || [], issuer: entry.issuer, claims: entry.claims || {} });
    return untrusted ? verdict("bad", t("verdict_invalid", { checks: t("check_issuerTrust") })) : verdict("ok", t("verdict_valid"));
  }
  const results = Object.fromEntries(PRESENTATION_CHECKS.map((name) => [name, { valid: true }]));
  await renderChecks(PRESENTATION_CHECKS, results, {}, true);
  // The counter accepts accredited issuers only (a request made elsewhere may have asked
  // with requireAccreditedIssuer: false, so the result's issuerTrust is read here too).
  const trust = (entry.results || {}).issuerTrust;
  const untrusted = Boolean(trust) && !trust.accredited;
  if (untrusted) $("checks").append(checkItem("issuerTrust", "failed", [[t("check_issuerTrust")], [trust.reason || trust.type || "", "error"]]));
  $("checks").append(answered);
  await showClaims({ type: entry.type, issuer: entry.issuer, credentialSubject: entry.claims || {} });
  if (untrusted) return verdict("bad", t("verdict_invalid", { checks: t("check_issuerTrust") }));
  verdict("ok", t("verdict_presentation_valid", { holder: entry.holder, count: 1 }));
}

function reset() {
  stopPolling();
  asked = null;
  sessionStorage.removeItem(PENDING);
  $("vp-request").hidden = true;
  if (qrUrl) URL.revokeObjectURL(qrUrl);
  qrUrl = null;
  showKeyState();
}

keyForm("vp-key-form", "vp-key", KEY, () => {
  showKeyState();
  if (!types.length) loadTypes();
  $("vp-type").focus();
});
$("vp-forget-key").addEventListener("click", forgetKey);
$("vp-type").addEventListener("change", () => { $("vp-template").value = ""; renderClaims(); });
$("vp-template").addEventListener("change", applyTemplate);
$("vp-form").addEventListener("submit", ask);
$("vp-new").addEventListener("click", () => { reset(); clearResult(); verdict("", t("verify_nothing_yet")); $("vp-type").focus(); });

// Back from the wallet on this device: `#response_code=…` releases the result.
async function returned() {
  const code = new URLSearchParams(window.location.hash.slice(1)).get("response_code");
  if (!code) return false;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  if (!pending || !verifierKey()) { verdict("bad", t("vp_return_lost")); return true; }
  asked = pending;
  showKeyState();
  await loadTypes();
  const path = `/oid4vp/requests/${encodeURIComponent(pending.id)}/result?response_code=${encodeURIComponent(code)}`;
  const answer = await api(path, { token: verifierKey(), cache: "no-store" });
  if (!answer.ok) {
    verdict("bad", t("verdict_error", { detail: problemText(answer.body) }));
    return true;
  }
  await showResult(answer.body);
  $("vp-form").hidden = true;
  return true;
}

// A wallet in this very tab lands on the same document: only the fragment changes.
window.addEventListener("hashchange", () => { returned(); });

showKeyState();
returned().then((done) => { if (!done && verifierKey()) loadTypes(); });
