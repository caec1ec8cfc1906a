// The public log explorer: the checkpoint verified here against the log key, recent
// entries, look-up with the inclusion proof checked here, and consistency between sizes.
import { $, api, el, formatTime, mark, problemText, setVerdict, t } from "./common.js";
import {
  CheckFailed, b64decode, hasWebCrypto, hex, leafHash, openCheckpoint, unhex,
  verifyConsistency, verifyInclusion, equal,
} from "./crypto.js";

const RECENT = 25;
let checkpoint = null;
let entries = [];

function fact(term, value) { return [el("dt", {}, term), el("dd", {}, value)]; }

async function readEntry(index) {
  const answer = await api(`/log/entries/${index}`);
  if (!answer.ok) throw new Error(problemText(answer.body));
  const bytes = b64decode(answer.body.entry);
  const fields = JSON.parse(new TextDecoder().decode(bytes));
  return { index, bytes, fields, leafHash: answer.body.leaf_hash };
}

async function loadCheckpoint() {
  const box = $("checkpoint-status");
  if (!hasWebCrypto()) return setVerdict(box, "bad", t("log_needs_secure_context"));
  const [key, note] = await Promise.all([api("/log/key"), api("/log/checkpoint", { cache: "no-cache" })]);
  try {
    checkpoint = await openCheckpoint(note.body, key.body.vkey);
  } catch (error) {
    checkpoint = null;
    $("checkpoint").replaceChildren(el("dt", {}, t("log_note")), el("dd", {}, el("code", {}, note.body)));
    return setVerdict(box, "bad", t("log_checkpoint_failed", { reason: error.message }));
  }
  const pinned = localStorage.getItem("log.vkey");
  const keyNote = pinned && pinned !== key.body.vkey ? t("log_key_changed") : null;
  localStorage.setItem("log.vkey", key.body.vkey);
  const recent = [];
  for (let i = checkpoint.size - 1; i >= Math.max(0, checkpoint.size - RECENT); i--) recent.push(i);
  entries = await Promise.all(recent.map(readEntry));
  const latest = entries[0] ? entries[0].fields.time : null;
  $("checkpoint").replaceChildren(...[
    fact(t("log_origin"), checkpoint.origin),
    fact(t("log_size"), String(checkpoint.size)),
    fact(t("log_root"), el("code", {}, hex(checkpoint.root))),
    fact(t("log_latest_time"), latest ? formatTime(latest) : "–"),
    fact(t("log_key"), el("code", {}, key.body.vkey)),
  ].flat());
  setVerdict(box, keyNote ? "warn" : "ok", keyNote || t("log_checkpoint_ok", { size: checkpoint.size, key: checkpoint.keyId }));
  $("second").value ||= String(checkpoint.size);
  await rememberAndCheck();
  showEntries();
}

// Like a witness: remember the last checkpoint seen here and check the log only grew.
async function rememberAndCheck() {
  const seen = JSON.parse(localStorage.getItem("log.seen") || "null");
  if (seen && seen.origin === checkpoint.origin && seen.size <= checkpoint.size && seen.size > 0) {
    const result = await consistency(seen.size, checkpoint.size, unhex(seen.root));
    $("consistency-result").replaceChildren(el("p", {}, t("log_since_last_visit")), result);
    if (result.dataset.state !== "passed") return;
  }
  localStorage.setItem("log.seen", JSON.stringify({ origin: checkpoint.origin, size: checkpoint.size, root: hex(checkpoint.root) }));
}

function showEntries() {
  const kinds = [...new Set(entries.map((e) => e.fields.kind))].sort();
  const select = $("kind");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, t("log_all_kinds")), ...kinds.map((k) => el("option", { value: k }, k)));
  select.value = kinds.includes(chosen) ? chosen : "";
  const rows = entries.filter((e) => !select.value || e.fields.kind === select.value).map((e) =>
    el("tr", { "data-index": e.index },
      el("td", {}, String(e.index)), el("td", {}, e.fields.kind), el("td", {}, formatTime(e.fields.time)),
      el("td", {}, el("code", {}, e.leafHash.slice(0, 16) + "…")),
      el("td", {}, el("button", { type: "button", onclick: () => { $("lookup").value = String(e.index); lookUp(); } }, t("log_check")))));
  $("entries").replaceChildren(...rows);
}

function result(state, title, lines) {
  return el("div", { class: "card", "data-state": state },
    el("p", { class: "check-name" }, mark(state), " ", title),
    lines.map((line) => (line instanceof Node ? line : el("p", { class: "check-detail" }, line))));
}

async function lookUp() {
  const box = $("lookup-result");
  const value = $("lookup").value.trim().toLowerCase();
  if (!checkpoint) return box.replaceChildren(result("failed", t("log_no_checkpoint"), []));
  let query;
  if (/^(0|[1-9][0-9]*)$/.test(value)) query = `index=${value}`;
  else if (/^[0-9a-f]{64}$/.test(value)) query = `leaf_hash=${value}`;
  else return box.replaceChildren(result("failed", t("log_lookup_invalid"), []));
  const answer = await api(`/log/proofs/inclusion?${query}&tree_size=${checkpoint.size}`);
  if (!answer.ok) return box.replaceChildren(result("failed", problemText(answer.body), []));
  const proof = answer.body;
  try {
    const entry = await readEntry(proof.leaf_index);
    const leaf = await leafHash(entry.bytes);
    if (hex(leaf) !== proof.leaf_hash) throw new CheckFailed("leaf", t("log_leaf_mismatch"));
    await verifyInclusion(proof.leaf_index, checkpoint.size, leaf, proof.path.map(unhex), checkpoint.root);
    const fields = el("dl", { class: "facts" }, Object.entries(entry.fields).map(([k, v]) => fact(k, el("code", {}, String(v)))).flat());
    box.replaceChildren(result("passed", t("log_inclusion_ok", { index: proof.leaf_index, size: checkpoint.size }), [
      t("log_inclusion_steps", { hash: hex(leaf), steps: proof.path.length }), fields]));
  } catch (error) {
    box.replaceChildren(result("failed", t("log_inclusion_failed", { index: proof.leaf_index }), [error.message]));
  }
}

// first_root is the server's word unless we remembered it; second_root must be the
// verified checkpoint's when second is its size.
async function consistency(first, second, knownFirstRoot = null) {
  const answer = await api(`/log/proofs/consistency?first=${first}&second=${second}`);
  if (!answer.ok) return result("failed", problemText(answer.body), []);
  const body = answer.body;
  try {
    const root1 = unhex(body.first_root), root2 = unhex(body.second_root);
    if (knownFirstRoot && !equal(root1, knownFirstRoot)) throw new CheckFailed("consistency", t("log_first_root_changed"));
    if (checkpoint && second === checkpoint.size && !equal(root2, checkpoint.root)) throw new CheckFailed("consistency", t("log_second_root_mismatch"));
    await verifyConsistency(first, second, root1, root2, body.path.map(unhex));
    const anchored = checkpoint && second === checkpoint.size ? t("log_consistency_anchored") : t("log_consistency_unanchored");
    return result("passed", t("log_consistency_ok", { first, second }), [
      t("log_roots", { first: body.first_root, second: body.second_root }), anchored]);
  } catch (error) {
    return result("failed", t("log_consistency_failed", { first, second }), [error.message]);
  }
}

$("refresh").addEventListener("click", loadCheckpoint);
$("kind").addEventListener("change", showEntries);
$("lookup-form").addEventListener("submit", (event) => { event.preventDefault(); lookUp(); });
$("consistency-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const first = Number($("first").value), second = Number($("second").value);
  const box = $("consistency-result");
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || second < first) {
    return box.replaceChildren(result("failed", t("log_sizes_invalid"), []));
  }
  box.replaceChildren(await consistency(first, second));
});

loadCheckpoint().catch((error) => setVerdict($("checkpoint-status"), "bad", error.message));

