// The citizen portal. The citizen's Ed25519 key lives in this browser (IndexedDB) and
// never leaves it: it signs the DID-auth presentation and the consent receipts. The
// access history is checked here, not on the server's word: the checkpoint's signature
// against the log key, each record's digest against its leaf, each inclusion proof.
import { $, api, download, el, formatTime, mark, problemText, setVerdict, t } from "./common.js";
import {
  CheckFailed, addProof, b64decode, base58, ed25519Multibase, hasWebCrypto, hex, jcs,
  jcsDigest, leafHash, openCheckpoint, sha256, unhex, verifyInclusion, xsdNow,
} from "./crypto.js";

const V2 = "https://www.w3.org/ns/credentials/v2";
const PURPOSES = ["assertionMethod", "authentication", "capabilityDelegation", "capabilityInvocation"];
const TOKEN = "wallet.token";
let agencies = {};

// -- IndexedDB: one database, a store for the key and one for credentials ---------------
function database() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("identity-wallet", 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore("keys");
      open.result.createObjectStore("credentials");
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

async function stored(store, key, value, remove = false) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, value === undefined && !remove ? "readonly" : "readwrite");
    const os = tx.objectStore(store);
    const req = remove ? os.delete(key) : value === undefined ? os.get(key) : os.put(value, key);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

const getKey = () => stored("keys", "current");
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64url = (text) => b64decode(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));

// -- the key and its did:cityid (identity/dids/cityid.py: key_body, create_operation) ----
async function registerCityId(privateKey, publicRaw) {
  const fragment = "#key-1";
  const document = {
    verificationMethod: [{ id: fragment, type: "Multikey", publicKeyMultibase: ed25519Multibase(publicRaw) }],
    ...Object.fromEntries(PURPOSES.map((p) => [p, [fragment]])),
  };
  const operation = { type: "create", document };
  const did = "did:cityid:" + base58(await sha256(new TextEncoder().encode(jcs(operation))));
  const signed = await addProof(operation, {
    type: "DataIntegrityProof", cryptosuite: "eddsa-jcs-2022",
    proofPurpose: "capabilityInvocation", verificationMethod: did + fragment,
  }, privateKey);
  const answer = await api("/dids", { method: "POST", body: signed });
  if (!answer.ok && answer.status !== 409) throw new Error(problemText(answer.body));
  return { did, method: did + fragment };
}

async function keep(privateKey, publicRaw, did, method) {
  await stored("keys", "current", { privateKey, publicRaw, did, method });
}

async function createKey() {
  status(t("wallet_creating_key"));
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const { did, method } = await registerCityId(pair.privateKey, publicRaw);
  await keep(pair.privateKey, publicRaw, did, method);
  status(t("wallet_key_created"), "ok");
  await showKey();
}

// A key file: {"did", "verificationMethod", "privateKeyJwk"} as "Save key file" writes it,
// or a bare Ed25519 JWK (a did:cityid is then registered for it).
async function importKey(file) {
  try {
    const data = JSON.parse(await file.text());
    const jwk = data.privateKeyJwk || data;
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.d || !jwk.x) throw new Error(t("wallet_bad_key_file"));
    const privateKey = await crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, true, ["sign"]);
    const publicRaw = unb64url(jwk.x);
    const ids = data.did ? { did: data.did, method: data.verificationMethod || data.did + "#key-1" } : await registerCityId(privateKey, publicRaw);
    await keep(privateKey, publicRaw, ids.did, ids.method);
    status(t("wallet_key_imported"), "ok");
    await showKey();
  } catch (error) {
    status(t("wallet_bad_key_file") + " " + error.message, "bad");
  }
}

async function saveKey() {
  const key = await getKey();
  const jwk = await crypto.subtle.exportKey("jwk", key.privateKey);
  const file = { type: "CityIdentityWalletKey", did: key.did, verificationMethod: key.method, privateKeyJwk: jwk };
  download("wallet-key.json", JSON.stringify(file, null, 2));
}

async function forgetKey() {
  if (!confirm(t("wallet_forget_confirm"))) return;
  await stored("keys", "current", undefined, true);
  signOut();
  await showKey();
}

// -- DID authentication (service/routers/citizens.py) ------------------------------------
async function signIn() {
  const key = await getKey();
  status(t("wallet_signing_in"));
  const challenge = await api("/auth/challenge", { method: "POST" });
  if (!challenge.ok) return status(problemText(challenge.body), "bad");
  const presentation = { "@context": [V2], type: ["VerifiablePresentation"], holder: key.did, verifiableCredential: [] };
  const vp = await addProof(presentation, {
    type: "DataIntegrityProof", cryptosuite: "eddsa-jcs-2022", created: xsdNow(),
    verificationMethod: key.method, proofPurpose: "authentication",
    challenge: challenge.body.challenge, domain: challenge.body.domain,
  }, key.privateKey);
  const answer = await api("/auth/token", { method: "POST", body: { verifiablePresentation: vp } });
  if (!answer.ok) return status(t("wallet_sign_in_failed") + " " + problemText(answer.body), "bad");
  sessionStorage.setItem(TOKEN, answer.body.access_token);
  status(t("wallet_signed_in", { expires: formatTime(answer.body.expires) }), "ok");
  await showPortal();
}

function signOut() {
  sessionStorage.removeItem(TOKEN);
  $("portal").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
}

const token = () => sessionStorage.getItem(TOKEN);

async function call(path, options = {}) {
  const answer = await api(path, { ...options, token: token() });
  if (answer.status === 401) { signOut(); status(t("wallet_session_ended"), "warn"); }
  return answer;
}

function status(text, state = "") { setVerdict($("wallet-status"), state, text); }

// -- my credentials ----------------------------------------------------------------------
function statusBadge(record) {
  if (record.status.revocation) return el("span", { class: "badge bad" }, t("status_revoked"));
  if (record.status.suspension) return el("span", { class: "badge warn" }, t("status_suspended"));
  return el("span", { class: "badge ok" }, t("status_active"));
}

// The hosted wallet keeps the credential (record.held): GET renders it. A file the citizen
// added themselves (one the wallet does not hold) is posted instead.
async function qrImage(record, held, format) {
  const path = `/wallet/credentials/${encodeURIComponent(record.id)}/qr?format=${format}`;
  const response = record.held
    ? await api(path, { token: token(), raw: true, cache: "no-store" })
    : await api(path, { method: "POST", body: held, token: token(), raw: true });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.type && body.type.endsWith("/qr-capacity") ? t("wallet_qr_too_large", { bytes: body.compressedBytes, limit: body.limit }) : problemText(body));
  }
  return response.blob();
}

async function credentialCard(record) {
  const held = await stored("credentials", record.id);
  const qrBox = el("div", { class: "qr" });
  const actions = el("div", { class: "actions" });
  if (record.held || held) {
    actions.append(
      el("button", { type: "button", onclick: async () => {
        try {
          const blob = await qrImage(record, held, "svg");
          qrBox.replaceChildren(el("img", { src: URL.createObjectURL(blob), alt: t("wallet_qr_alt", { type: record.type }) }));
        } catch (error) { qrBox.replaceChildren(el("p", { class: "notice" }, error.message)); }
      } }, t("wallet_show_qr")),
      el("button", { type: "button", onclick: async () => {
        try { download(`${record.type}.png`, await qrImage(record, held, "png"), "image/png"); }
        catch (error) { qrBox.replaceChildren(el("p", { class: "notice" }, error.message)); }
      } }, t("wallet_download_png")),
      ...(held ? [el("button", { type: "button", onclick: () => download(`${record.type}.json`, JSON.stringify(held, null, 2)) }, t("wallet_download_json"))] : []));
  } else {
    actions.append(el("p", { class: "hint" }, t("wallet_not_held")));
  }
  return el("li", { class: "card", "data-credential": record.id },
    el("h3", {}, record.type, " ", statusBadge(record)),
    el("dl", { class: "facts" },
      el("dt", {}, t("claims_issuer")), el("dd", {}, agencies[record.issuer] || record.issuer),
      el("dt", {}, t("wallet_issued")), el("dd", {}, formatTime(record.issued)),
      el("dt", {}, t("wallet_log_index")), el("dd", {}, record.receipt ? String(record.receipt.logIndex) : "–"),
      el("dt", {}, t("wallet_digest")), el("dd", {}, el("code", {}, record.digest))),
    actions, qrBox);
}

let records = [];

async function loadCredentials() {
  const answer = await call("/wallet/credentials");
  if (!answer.ok) return;
  records = answer.body;
  const cards = await Promise.all(records.map(credentialCard));
  $("credentials").replaceChildren(...(cards.length ? cards : [el("li", { class: "hint" }, t("wallet_no_credentials"))]));
}

async function importCredential(file) {
  try {
    const doc = JSON.parse(await file.text());
    const credential = doc.verifiableCredential || doc;
    const digest = hex(await sha256(new TextEncoder().encode(jcs(credential))));
    const record = records.find((r) => r.digest === digest);
    if (!record) return status(t("wallet_not_mine"), "bad");
    await stored("credentials", record.id, credential);
    status(t("wallet_credential_added", { type: record.type }), "ok");
    await loadCredentials();
  } catch {
    status(t("wallet_not_mine"), "bad");
  }
}

// -- who accessed my data, checked in this browser ----------------------------------------
// Each act: the leaf is the canonical JCS of its fields, names this act's kind, the digest
// of this record and of the request; its inclusion proof leads to the verified root.
async function verifyAct(event, requestDigest, checkpoint) {
  if (!event.integrated) return { state: "pending", text: t("act_pending") };
  try {
    const fields = JSON.parse(event.leaf);
    if (jcs(fields) !== event.leaf) throw new CheckFailed("leaf", t("act_fail_leaf_form"));
    if (fields.kind !== event.kind) throw new CheckFailed("leaf", t("act_fail_kind"));
    if (fields.record_digest !== (await jcsDigest(event.record))) throw new CheckFailed("record", t("act_fail_record"));
    if (fields.request_digest !== requestDigest) throw new CheckFailed("request", t("act_fail_request"));
    const leaf = await leafHash(new TextEncoder().encode(event.leaf));
    await verifyInclusion(event.logIndex, checkpoint.size, leaf, event.inclusionProof.map(unhex), checkpoint.root);
    return { state: "passed", text: t("act_verified", { index: event.logIndex, size: checkpoint.size }) };
  } catch (error) {
    return { state: "failed", text: t("act_failed", { reason: error instanceof CheckFailed ? error.message : t("act_fail_inclusion") }) };
  }
}

function name(did) { return agencies[did] || did; }

function actDetail(event, asked) {
  const r = event.record || {};
  switch (event.kind) {
    case "sharing.requested": return t("act_detail_requested", { who: name(asked.requester), holder: name(asked.holder), resource: asked.resource, fields: (asked.fields || []).join(", "), purpose: asked.purpose });
    case "consent.granted": return t("act_detail_granted", { until: formatTime(r.validUntil) });
    case "consent.refused": return t("act_detail_refused");
    case "consent.withdrawn": return t("act_detail_withdrawn");
    case "sharing.exempted": return t("act_detail_exempted", { basis: r.legalBasis, reference: r.reference || "" });
    case "sharing.approved": return t("act_detail_approved", { holder: name(r.holder), basis: t("basis_" + r.basis) });
    case "data.accessed": return t("act_detail_accessed", { who: name(r.accessor), holder: name(r.holder), resource: r.resource, fields: (r.fields || []).join(", "), purpose: r.purpose, basis: t("basis_" + r.basis) });
    default: return event.kind;
  }
}

async function decide(request, decision) {
  const until = new Date(Date.now() + 365 * 86400 * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const template = await call(`/sharing/requests/${request.id}/consent-template?decision=${decision}&validUntil=${until}`);
  if (!template.ok) return status(problemText(template.body), "bad");
  const key = await getKey();
  const receipt = await addProof(template.body, {
    type: "DataIntegrityProof", cryptosuite: "eddsa-jcs-2022", created: xsdNow(),
    verificationMethod: key.method, proofPurpose: "assertionMethod",
  }, key.privateKey);
  const answer = await call(`/sharing/requests/${request.id}/consent`, { method: "POST", body: receipt });
  if (!answer.ok) return status(problemText(answer.body), "bad");
  status(t(decision === "grant" ? "wallet_granted" : "wallet_refused"), "ok");
  await loadHistory();
}

async function withdraw(request) {
  if (!confirm(t("wallet_withdraw_confirm"))) return;
  // A signed withdrawal where the service offers its template; else the token alone.
  let body = {};
  const template = await call(`/sharing/requests/${request.id}/consent-template?decision=withdraw`);
  if (template.ok) {
    const key = await getKey();
    body = await addProof(template.body, {
      type: "DataIntegrityProof", cryptosuite: "eddsa-jcs-2022", created: xsdNow(),
      verificationMethod: key.method, proofPurpose: "assertionMethod",
    }, key.privateKey);
  }
  const answer = await call(`/sharing/requests/${request.id}/withdraw`, { method: "POST", body });
  if (!answer.ok) return status(problemText(answer.body), "bad");
  status(t("wallet_withdrawn"), "ok");
  await loadHistory();
}

function pendingCard(request) {
  const asked = request.request;
  const buttons = request.state === "awaiting-consent"
    ? [el("button", { type: "button", class: "primary", onclick: () => decide(request, "grant") }, t("wallet_grant")),
       el("button", { type: "button", onclick: () => decide(request, "refuse") }, t("wallet_refuse"))]
    : [el("button", { type: "button", onclick: () => withdraw(request) }, t("wallet_withdraw"))];
  return el("li", { class: "card", "data-request": request.id },
    el("h3", {}, t("wallet_request_title", { who: name(asked.requester), resource: asked.resource })),
    el("dl", { class: "facts" },
      el("dt", {}, t("wallet_holder")), el("dd", {}, name(asked.holder)),
      el("dt", {}, t("wallet_fields")), el("dd", {}, asked.fields.join(", ")),
      el("dt", {}, t("wallet_purpose")), el("dd", {}, asked.purpose),
      el("dt", {}, t("wallet_state")), el("dd", {}, t("state_" + request.state))),
    el("div", { class: "actions" }, buttons));
}

async function loadHistory() {
  const box = $("history-status");
  setVerdict(box, "", t("wallet_history_checking"));
  const [answer, key] = await Promise.all([call("/wallet/access-history"), api("/log/key")]);
  if (!answer.ok || !key.ok) return setVerdict(box, "bad", problemText(answer.body));
  const history = answer.body;
  agencies = { ...agencies, ...history.agencies };
  $("pending").replaceChildren(...history.requests.filter((r) => ["awaiting-consent", "consented", "approved"].includes(r.state)).map(pendingCard));
  if (!$("pending").children.length) $("pending").append(el("li", { class: "hint" }, t("wallet_no_pending")));
  let checkpoint = null, checkpointError = null;
  try {
    checkpoint = await openCheckpoint(history.checkpoint, key.body.vkey);
    if (checkpoint.origin !== history.logOrigin || checkpoint.size !== history.treeSize) throw new CheckFailed("signature", t("act_fail_checkpoint_mismatch"));
    const pinned = localStorage.getItem("log.vkey");
    if (pinned && pinned !== key.body.vkey) throw new CheckFailed("logKey", t("log_key_changed"));
    localStorage.setItem("log.vkey", key.body.vkey);
  } catch (error) { checkpointError = error.message; }
  let acts = 0, failed = 0, pending = 0;
  const cards = [];
  for (const request of history.requests) {
    const requestDigest = await jcsDigest(request.request);
    const digestOk = requestDigest === request.requestDigest;
    const items = [];
    for (const event of request.history) {
      acts++;
      const result = checkpoint
        ? (digestOk ? await verifyAct(event, requestDigest, checkpoint) : { state: "failed", text: t("act_failed", { reason: t("act_fail_request") }) })
        : { state: "failed", text: t("act_failed", { reason: checkpointError }) };
      if (result.state === "failed") failed++;
      if (result.state === "pending") pending++;
      items.push(el("li", { class: "act", "data-kind": event.kind, "data-index": event.logIndex, "data-state": result.state },
        mark(result.state),
        el("span", {}, el("strong", {}, t("kind_" + event.kind)), " · ", formatTime(event.time)),
        el("span", { class: "act-detail" }, actDetail(event, request.request)),
        el("span", { class: `act-check ${result.state}` }, result.text)));
    }
    cards.push(el("article", { class: "card", "data-request": request.id },
      el("h3", {}, t("wallet_request_title", { who: name(request.request.requester), resource: request.request.resource }), " ",
        el("span", { class: "badge" }, t("state_" + request.state))),
      el("ol", { class: "acts" }, items)));
  }
  $("history").replaceChildren(...(cards.length ? cards : [el("p", { class: "hint" }, t("wallet_no_history"))]));
  if (checkpointError) setVerdict(box, "bad", t("wallet_history_checkpoint_failed", { reason: checkpointError }));
  else if (failed) setVerdict(box, "bad", t("wallet_history_failed", { failed, acts }));
  else {
    const done = t("wallet_history_ok", { acts: acts - pending, size: checkpoint.size, root: hex(checkpoint.root).slice(0, 16) });
    setVerdict(box, pending ? "warn" : "ok", pending ? `${done} ${t("wallet_history_pending", { pending })}` : done);
  }
}

async function showPortal() {
  $("portal").hidden = false;
  $("sign-out").hidden = false;
  $("sign-in").hidden = true;
  const issuers = await api("/issuers");
  if (issuers.ok) agencies = Object.fromEntries(issuers.body.map((a) => [a.did, a.name]));
  await loadCredentials();
  await loadHistory();
}

async function showKey() {
  const key = await getKey();
  $("no-key").hidden = Boolean(key);
  $("has-key").hidden = !key;
  if (key) $("did").textContent = key.did;
}

async function main() {
  if (!hasWebCrypto() || !globalThis.indexedDB) {
    status(t("wallet_needs_secure_context"), "bad");
    $("create-key").disabled = true;
    return;
  }
  $("create-key").addEventListener("click", () => createKey().catch((e) => status(e.message, "bad")));
  $("import-key").addEventListener("change", (e) => e.target.files[0] && importKey(e.target.files[0]));
  $("save-key").addEventListener("click", saveKey);
  $("forget-key").addEventListener("click", forgetKey);
  $("sign-in").addEventListener("click", () => signIn().catch((e) => status(e.message, "bad")));
  $("sign-out").addEventListener("click", () => { signOut(); status(t("wallet_signed_out")); });
  $("import-credential").addEventListener("change", (e) => e.target.files[0] && importCredential(e.target.files[0]));
  await showKey();
  if (token() && (await getKey())) await showPortal();
}

main();
