// The verifier page: read a credential or presentation (paste, file, photo, camera, QR
// payload), send it to the public verify API, and show every check in plain words.
// oid4vp.js (asking a wallet over OpenID4VP) shows its results with the exported renderers.
// Data Integrity JSON, VC-JOSE-COSE envelopes (JSON, or a bare compact JWS) and SD-JWT VCs.
import { $, api, el, formatTime, mark, problemText, setVerdict, t } from "./common.js";
import * as qr from "./qr.js";
import * as formats from "./formats.js";
import { CheckFailed, b64decode, hasWebCrypto, hex, jcsDigest, leafHash, openCheckpoint, unhex, verifyInclusion } from "./crypto.js";

export const CREDENTIAL_CHECKS = ["wellFormed", "proof", "issuer", "validityPeriod", "status", "issuerTrust", "anchor"];
export const PRESENTATION_CHECKS = ["wellFormed", "holderProof", "credentials", "challenge"];
// docs/sd-jwt.md "Verifying": the checks of POST /credentials/sd-jwt/verify, in its order.
export const SD_JWT_CHECKS = ["wellFormed", "signature", "disclosures", "validity", "keyBinding", "status", "issuerTrust", "anchor"];
// Registered JWT claims (SD-JWT VC §3.2.2): shown as checks, not as what the credential says.
const REGISTERED = new Set(["iss", "vct", "iat", "nbf", "exp", "cnf", "status", "sub", "_sd_alg", "vct#integrity"]);
const textarea = $("document");
let challenge = null; // the challenge this counter handed out, if any
let agencies = null;
let stopCamera = null;

async function agencyName(did) {
  if (agencies === null) {
    const answer = await api("/issuers");
    agencies = answer.ok ? Object.fromEntries(answer.body.map((a) => [a.did, a.name])) : {};
  }
  return agencies[did];
}

function list(items) { return items.filter(Boolean).join(", "); }

// Plain words for a check that passed.
async function passedText(name, result, doc) {
  switch (name) {
    case "wellFormed": return t(doc.format === "sd-jwt" ? "check_wellFormed_sdjwt_ok" : "check_wellFormed_ok");
    case "proof":
      if (result.envelope) return t("check_proof_ok", { suite: result.envelope, key: result.verificationMethod });
      return (result.proofs || []).map((p) => t("check_proof_ok", { suite: p.cryptosuite, key: p.verificationMethod })).join(" ");
    case "signature": {
      const known = await agencyName(doc.issuer);
      return t("check_signature_ok", { alg: result.alg, issuer: known ? `${known} (${doc.issuer})` : doc.issuer });
    }
    case "disclosures": return t("check_disclosures_ok", { count: result.count });
    case "validity": return t("check_validityPeriod_ok", { from: doc.validFrom ? formatTime(doc.validFrom) : t("unbounded"), until: doc.validUntil ? formatTime(doc.validUntil) : t("unbounded") });
    case "keyBinding": return t(result.required ? "check_keyBinding_ok" : "check_keyBinding_unasked");
    case "issuer": {
      const known = await agencyName(result.issuer);
      return known ? t("check_issuer_ok_named", { name: known, did: result.issuer }) : t("check_issuer_ok", { did: result.issuer });
    }
    case "validityPeriod":
      if (doc.opaque) return t("check_validityPeriod_ok_opaque");
      return t("check_validityPeriod_ok", { from: doc.validFrom ? formatTime(doc.validFrom) : t("unbounded"), until: doc.validUntil ? formatTime(doc.validUntil) : t("unbounded") });
    case "status": return t("check_status_ok");
    case "issuerTrust":
      return result.accredited
        ? t("check_issuerTrust_ok", { type: result.type, at: formatTime(result.at), by: list(result.accreditedBy || []) })
        : t("check_issuerTrust_no", { type: result.type, reason: result.reason || "" });
    case "anchor":
      return result.integrated
        ? t("check_anchor_ok", { index: result.index, origin: result.origin, size: result.treeSize })
        : t("check_anchor_pending", { index: result.index, origin: result.origin });
    case "holderProof": return t("check_holderProof_ok");
    case "credentials": return t("check_credentials_ok");
    case "challenge": return t("check_challenge_ok");
    default: return "";
  }
}

export function checkItem(name, state, lines) {
  return el("li", { "data-check": name, "data-state": state },
    mark(state),
    el("span", { class: "check-name" }, t("check_" + name)),
    lines.map(([text, cls]) => el("span", { class: "check-detail" + (cls ? " " + cls : "") }, text)));
}

export async function renderChecks(order, results, doc, verified) {
  const items = [];
  const names = [...order, ...Object.keys(results).filter((n) => !order.includes(n))];
  for (const name of names) {
    const result = results[name];
    if (!result) {
      if (verified && name === "anchor") items.push(checkItem(name, "skipped", [[t("check_anchor_none")]]));
      else if (!verified) items.push(checkItem(name, "skipped", [[t("check_not_run")]]));
      continue;
    }
    if (result.skipped && name === "keyBinding") {
      items.push(checkItem(name, "skipped", [[t("check_keyBinding_none")]]));
    } else if (result.skipped) {
      // Not run, and why (the verifier reports a check it could not make as skipped).
      items.push(checkItem(name, "skipped", [[t("check_not_run_because", { reason: result.skipped })]]));
    } else if (result.valid) {
      items.push(checkItem(name, "passed", [[await passedText(name, result, doc)]]));
    } else {
      const error = result.error || {};
      items.push(checkItem(name, "failed", [[t("check_" + name + "_failed")], [`${error.title || ""}: ${error.detail || ""}`, "error"]]));
    }
  }
  $("checks").replaceChildren(...items);
  return names.filter((n) => results[n] && !results[n].valid && !results[n].skipped);
}

export async function showClaims(doc) {
  const subject = Array.isArray(doc.credentialSubject) ? doc.credentialSubject[0] : doc.credentialSubject || {};
  const types = (Array.isArray(doc.type) ? doc.type : [doc.type]).filter((x) => x !== "VerifiableCredential");
  const issuer = typeof doc.issuer === "object" && doc.issuer ? doc.issuer.id : doc.issuer;
  const known = typeof issuer === "string" ? await agencyName(issuer) : null;
  const rows = [[t("claims_type"), list(types)], [t("claims_issuer"), known ? `${known} (${issuer})` : issuer]];
  for (const [key, value] of Object.entries(subject)) rows.push([key, typeof value === "object" ? JSON.stringify(value) : value]);
  $("claims").replaceChildren(
    el("h3", {}, t("claims_heading")),
    el("dl", { class: "facts" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));
}

// The anchor once more, in this browser: the current checkpoint's signature against the
// log key, the issuance leaf's credential digest (`digest()`: "sha256:<hex>" of what was
// handed out), and its inclusion proof to that root.
async function anchorInBrowser(digest, anchor) {
  if (!anchor || !anchor.integrated || !hasWebCrypto()) return null;
  try {
    const [key, note] = await Promise.all([api("/log/key"), api("/log/checkpoint", { cache: "no-cache" })]);
    const checkpoint = await openCheckpoint(note.body, key.body.vkey);
    const entry = await api(`/log/entries/${anchor.index}`);
    const leaf = b64decode(entry.body.entry);
    const fields = JSON.parse(new TextDecoder().decode(leaf));
    if (fields.kind !== "credential.issued" || fields.credential_digest !== (await digest())) {
      throw new CheckFailed("leaf", t("browser_anchor_leaf_mismatch"));
    }
    const proof = await api(`/log/proofs/inclusion?index=${anchor.index}&tree_size=${checkpoint.size}`);
    await verifyInclusion(anchor.index, checkpoint.size, await leafHash(leaf), proof.body.path.map(unhex), checkpoint.root);
    return checkItem("browserAnchor", "passed", [[t("check_browserAnchor_ok", { index: anchor.index, size: checkpoint.size, root: hex(checkpoint.root).slice(0, 16) })]]);
  } catch (error) {
    return checkItem("browserAnchor", "failed", [[t("check_browserAnchor_failed")], [error.message, "error"]]);
  }
}

async function verifyCredential(doc) {
  const answer = await api("/credentials/verify", { method: "POST", body: { verifiableCredential: doc, options: { requireAccreditedIssuer: true } } });
  // An envelope's claims are in its token: a JWS payload is shown, a COSE one is not read here.
  const enveloped = formats.isEnvelope(doc);
  const shown = enveloped ? formats.envelopedCredential(doc) : doc;
  const opened = enveloped ? formats.openEnvelope(doc) : null;
  if (shown) await showClaims(shown);
  else if (opened && opened.mediaType.endsWith("cose")) $("claims").replaceChildren(el("p", { class: "hint" }, t("claims_cose_hidden")));
  else $("claims").replaceChildren();
  if (!answer.body || !answer.body.results) return showProblem(answer);
  const failed = await renderChecks(CREDENTIAL_CHECKS, answer.body.results, shown || { opaque: true }, answer.ok);
  if (answer.ok) {
    const digest = enveloped ? () => formats.envelopeDigest(doc) : () => jcsDigest(doc);
    const extra = await anchorInBrowser(digest, answer.body.results.anchor);
    if (extra) $("checks").append(extra);
    const browserFailed = extra && extra.dataset.state === "failed";
    setVerdict($("verdict"), browserFailed ? "bad" : "ok", browserFailed ? t("verdict_invalid", { checks: t("check_browserAnchor") }) : t("verdict_valid"));
  } else {
    setVerdict($("verdict"), "bad", t("verdict_invalid", { checks: list(failed.map((n) => t("check_" + n))) }));
  }
}

async function verifyPresentation(doc) {
  const proof = Array.isArray(doc.proof) ? doc.proof[0] : doc.proof || {};
  const options = { challenge: challenge || proof.challenge };
  if (proof.domain) options.domain = proof.domain;
  const answer = await api("/presentations/verify", { method: "POST", body: { verifiablePresentation: doc, options } });
  $("claims").replaceChildren();
  if (answer.ok) {
    const results = Object.fromEntries(answer.body.checks.map((n) => [n, { valid: true }]));
    await renderChecks(PRESENTATION_CHECKS, results, doc, true);
    setVerdict($("verdict"), "ok", t("verdict_presentation_valid", { holder: answer.body.holder, count: answer.body.credentials }));
    challenge = null;
    return;
  }
  if (!answer.body || !(answer.body.results || answer.body.checks)) return showProblem(answer);
  const results = answer.body.results || {};
  for (const p of answer.body.problemDetails || []) {
    if (!results[p.check]) results[p.check] = { valid: false, error: p };
  }
  const failed = await renderChecks(PRESENTATION_CHECKS, results, doc, false);
  setVerdict($("verdict"), "bad", t("verdict_invalid", { checks: list(failed.map((n) => t("check_" + n))) }));
}

// An SD-JWT VC or presentation: POST /credentials/sd-jwt/verify answers 200 with every
// check, or one problem naming the check that refused it (`check`). With a challenge from
// this counter, the holder's Key Binding JWT must carry it as its nonce, for this origin.
async function verifySdJwt(token) {
  const options = { requireAccreditedIssuer: true };
  if (challenge) options.keyBinding = { nonce: challenge, audience: window.location.origin };
  const answer = await api("/credentials/sd-jwt/verify", { method: "POST", body: { credential: token, options } });
  if (answer.ok) {
    const { claims, results } = answer.body;
    const view = { format: "sd-jwt", issuer: answer.body.issuer, validFrom: timeOf(claims.nbf), validUntil: timeOf(claims.exp) };
    // A 200 means every check passed; results carry each one's details (null: not anchored here).
    const passed = { wellFormed: { valid: true } };
    for (const [name, result] of Object.entries(results)) if (result) passed[name] = { valid: true, ...result };
    await renderChecks(SD_JWT_CHECKS, passed, view, true);
    await showDisclosed(answer.body);
    const extra = await anchorInBrowser(() => formats.sdJwtDigest(token), results.anchor);
    if (extra) $("checks").append(extra);
    const browserFailed = extra && extra.dataset.state === "failed";
    setVerdict($("verdict"), browserFailed ? "bad" : "ok", browserFailed ? t("verdict_invalid", { checks: t("check_browserAnchor") }) : t("verdict_valid"));
    if (results.keyBinding && results.keyBinding.required) challenge = null;
    return;
  }
  const check = answer.body && answer.body.check;
  if (!SD_JWT_CHECKS.includes(check)) return showProblem(answer);
  // The first refusal stops the verifier: the checks it did not report are not claimed.
  const items = SD_JWT_CHECKS.map((name) => name === check
    ? checkItem(name, "failed", [[t("check_" + name + "_failed")], [`${answer.body.title || ""}: ${answer.body.detail || ""}`, "error"]])
    : checkItem(name, "skipped", [[t("check_not_reported")]]));
  $("checks").replaceChildren(...items);
  setVerdict($("verdict"), "bad", t("verdict_invalid", { checks: t("check_" + check) }));
}

function timeOf(seconds) {
  return typeof seconds === "number" ? new Date(seconds * 1000).toISOString() : null;
}

// Exactly what the holder disclosed (the API's `claims`, minus the registered JWT claims),
// each under its display name from the type's metadata (GET /vct/<Type>).
export async function showDisclosed(body) {
  const type = body.results.issuerTrust && body.results.issuerTrust.type;
  const language = document.documentElement.lang;
  const metadata = type ? await api(`/vct/${encodeURIComponent(type)}`) : null;
  const labels = metadata && metadata.ok ? formats.claimLabels(metadata.body, language) : {};
  const selective = new Set(body.disclosed || []);
  const known = await agencyName(body.issuer);
  const rows = [
    el("dt", {}, t("claims_type")), el("dd", {}, (metadata && metadata.ok && formats.typeName(metadata.body, language)) || type || ""),
    el("dt", {}, t("claims_issuer")), el("dd", {}, known ? `${known} (${body.issuer})` : body.issuer),
  ];
  if (body.claims.sub) rows.push(el("dt", {}, t("claims_subject")), el("dd", {}, body.claims.sub));
  for (const [name, value] of Object.entries(body.claims)) {
    if (REGISTERED.has(name)) continue;
    const shown = typeof value === "object" ? JSON.stringify(value) : String(value);
    rows.push(
      el("dt", { "data-claim": name }, labels[name] || name),
      el("dd", { "data-claim": name }, el("span", { class: "value" }, shown),
        selective.has(name) ? el("span", { class: "tag" }, t("claims_disclosed")) : null));
  }
  $("claims").replaceChildren(el("h3", {}, t("claims_sd_heading")), el("dl", { class: "facts" }, rows));
}

function showProblem(answer) {
  $("checks").replaceChildren();
  setVerdict($("verdict"), "bad", t("verdict_error", { detail: problemText(answer.body) }));
}

async function verifyText(text) {
  $("checks").replaceChildren();
  $("claims").replaceChildren();
  text = text.trim();
  if (!text) return setVerdict($("verdict"), "warn", t("verify_empty"));
  setVerdict($("verdict"), "", t("verify_working"));
  if (!qr.isPayload(text) && !text.startsWith("{") && !text.startsWith("[")) {
    const found = formats.classify(text);
    if (!found) return setVerdict($("verdict"), "bad", t("verify_not_json"));
    try {
      if (found.kind === "sd-jwt") return await verifySdJwt(found.token);
      if (found.doc.type === "EnvelopedVerifiablePresentation") return await verifyPresentation(found.doc);
      return await verifyCredential(found.doc);
    } catch (error) {
      return setVerdict($("verdict"), "bad", t("verdict_error", { detail: error.message }));
    }
  }
  let doc;
  try {
    doc = qr.isPayload(text) ? await qr.decodePayload(text) : JSON.parse(text);
  } catch {
    return setVerdict($("verdict"), "bad", qr.isPayload(text) ? t("verify_bad_qr_payload") : t("verify_not_json"));
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return setVerdict($("verdict"), "bad", t("verify_not_json"));
  }
  const types = Array.isArray(doc.type) ? doc.type : [doc.type];
  try {
    if (types.includes("VerifiablePresentation") || types.includes("EnvelopedVerifiablePresentation")) await verifyPresentation(doc);
    else await verifyCredential(doc);
  } catch (error) {
    setVerdict($("verdict"), "bad", t("verdict_error", { detail: error.message }));
  }
}

async function readQrText(text) {
  if (text === null) return setVerdict($("verdict"), "bad", t("verify_no_qr_found"));
  textarea.value = text;
  await verifyText(text);
}

async function readFile(file) {
  if (!file) return;
  if (file.type.startsWith("image/")) {
    if (!qr.decoderAvailable()) return setVerdict($("verdict"), "bad", t("qr_decoder_missing"));
    setVerdict($("verdict"), "", t("verify_reading_image"));
    try { await readQrText(await qr.readImageFile(file)); }
    catch { setVerdict($("verdict"), "bad", t("verify_no_qr_found")); }
    return;
  }
  textarea.value = await file.text();
  await verifyText(textarea.value);
}

$("verify-form").addEventListener("submit", (event) => { event.preventDefault(); verifyText(textarea.value); });
$("file").addEventListener("change", (event) => readFile(event.target.files[0]));
$("photo").addEventListener("change", (event) => readFile(event.target.files[0]));
$("clear").addEventListener("click", () => {
  textarea.value = "";
  $("checks").replaceChildren();
  $("claims").replaceChildren();
  setVerdict($("verdict"), "", t("verify_nothing_yet"));
  textarea.focus();
});
for (const name of ["dragenter", "dragover"]) {
  textarea.addEventListener(name, (event) => { event.preventDefault(); textarea.classList.add("dragging"); });
}
textarea.addEventListener("dragleave", () => textarea.classList.remove("dragging"));
textarea.addEventListener("drop", (event) => {
  event.preventDefault();
  textarea.classList.remove("dragging");
  if (event.dataTransfer.files.length) readFile(event.dataTransfer.files[0]);
});

$("scan").addEventListener("click", async () => {
  if (!qr.decoderAvailable()) return setVerdict($("verdict"), "bad", t("qr_decoder_missing"));
  if (!navigator.mediaDevices) return setVerdict($("verdict"), "bad", t("verify_no_camera"));
  $("camera-box").hidden = false;
  try {
    stopCamera = await qr.scanCamera($("camera"), (text) => { $("camera-box").hidden = true; readQrText(text); });
  } catch {
    $("camera-box").hidden = true;
    setVerdict($("verdict"), "bad", t("verify_no_camera"));
  }
});
$("stop-scan").addEventListener("click", () => { if (stopCamera) stopCamera(); $("camera-box").hidden = true; });

$("new-challenge").addEventListener("click", async () => {
  const answer = await api("/challenges", { method: "POST" });
  if (!answer.ok) return setVerdict($("verdict"), "bad", t("verdict_error", { detail: problemText(answer.body) }));
  challenge = answer.body.challenge;
  $("challenge").textContent = t("verify_challenge_value", { challenge, expires: formatTime(answer.body.expires) });
});
