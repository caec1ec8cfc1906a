// What the pages check themselves, with WebCrypto: SHA-256, Ed25519, RFC 8785 JCS,
// C2SP signed notes and checkpoints, RFC 9162 inclusion and consistency proofs, and
// eddsa-jcs-2022 proofs (W3C Data Integrity EdDSA Cryptosuites §3.3) for the wallet.
// Each function mirrors one in identity/ (named in its comment); tests run both.

const subtle = globalThis.crypto && globalThis.crypto.subtle;
const enc = new TextEncoder();

export class CheckFailed extends Error {
  constructor(step, detail) { super(detail); this.step = step; }
}

export function hasWebCrypto() { return Boolean(subtle); }

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(text) {
  if (!/^([0-9a-f]{2})*$/i.test(text)) throw new CheckFailed("format", "not hex");
  return Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));
}

export function b64decode(text) {
  // Standard padded base64 that re-encodes to exactly the text (checkpoint.b64decode_strict).
  let raw;
  try { raw = atob(text); } catch { throw new CheckFailed("format", "not base64"); }
  const bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0));
  if (b64encode(bytes) !== text) throw new CheckFailed("format", "not canonical base64");
  return bytes;
}

export function b64encode(bytes) {
  return btoa(String.fromCharCode(...bytes));
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export function equal(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export async function sha256(bytes) {
  return new Uint8Array(await subtle.digest("SHA-256", bytes));
}

// RFC 8785 (identity.canonical.jcs): members sorted by UTF-16 code units, ECMAScript
// number and string serialisation -- which is what JSON.stringify does for a scalar.
export function jcs(value) {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new Error("non-finite number");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return "[" + value.map(jcs).join(",") + "]";
  const keys = Object.keys(value).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + jcs(value[k])).join(",") + "}";
}

export async function jcsDigest(value) {
  // "sha256:<hex>" of the JCS bytes: registry.sharing.record_digest.
  return "sha256:" + hex(await sha256(enc.encode(jcs(value))));
}

// -- base58btc and multibase (identity.encoding) ---------------------------------------
const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

export function base58(bytes) {
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let out = "";
  while (n > 0n) { out = B58[Number(n % 58n)] + out; n /= 58n; }
  for (const b of bytes) { if (b !== 0) break; out = "1" + out; }
  return out;
}

export function unbase58(text) {
  let n = 0n;
  for (const c of text) {
    const v = B58.indexOf(c);
    if (v < 0) throw new CheckFailed("format", "not base58");
    n = n * 58n + BigInt(v);
  }
  const bytes = [];
  while (n > 0n) { bytes.unshift(Number(n % 256n)); n /= 256n; }
  for (const c of text) { if (c !== "1") break; bytes.unshift(0); }
  return Uint8Array.from(bytes);
}

export function ed25519Multibase(rawPublicKey) {
  return "z" + base58(concat(Uint8Array.of(0xed, 0x01), rawPublicKey));
}

// -- Ed25519 --------------------------------------------------------------------------
export async function ed25519Verify(rawPublicKey, signature, message) {
  const key = await subtle.importKey("raw", rawPublicKey, { name: "Ed25519" }, false, ["verify"]);
  return subtle.verify({ name: "Ed25519" }, key, signature, message);
}

// -- C2SP signed note and checkpoint (identity.log.checkpoint) ------------------------
export async function parseVkey(vkey) {
  const parts = vkey.split("+");
  if (parts.length !== 3 || !/^[0-9a-f]{8}$/.test(parts[1])) {
    throw new CheckFailed("logKey", "the log key is not <name>+<key id>+<key>");
  }
  const raw = b64decode(parts[2]);
  if (raw.length !== 33 || raw[0] !== 0x01) throw new CheckFailed("logKey", "not an Ed25519 note key");
  const publicKey = raw.slice(1);
  const id = await noteKeyId(parts[0], publicKey);
  if (hex(id) !== parts[1]) throw new CheckFailed("logKey", "the key ID does not match the key");
  return { name: parts[0], keyId: id, publicKey };
}

async function noteKeyId(name, publicKey) {
  // SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]
  return (await sha256(concat(enc.encode(name + "\n"), Uint8Array.of(0x01), publicKey))).slice(0, 4);
}

// open_checkpoint: verify the log's signature on the note, then parse the body.
export async function openCheckpoint(note, vkey) {
  const key = await parseVkey(vkey);
  const at = note.lastIndexOf("\n\n");
  if (at < 0 || !note.endsWith("\n")) throw new CheckFailed("signature", "not a signed note");
  const text = note.slice(0, at + 1);
  let verified = false;
  for (const line of note.slice(at + 2, -1).split("\n")) {
    if (!line.startsWith("\u2014 ")) throw new CheckFailed("signature", "bad signature line");
    const [name, b64] = line.slice(2).split(" ");
    const raw = b64decode(b64 || "");
    if (name !== key.name || !equal(raw.slice(0, 4), key.keyId)) continue;
    if (!(await ed25519Verify(key.publicKey, raw.slice(4), enc.encode(text)))) {
      throw new CheckFailed("signature", "the log's signature does not verify");
    }
    verified = true;
  }
  if (!verified) throw new CheckFailed("signature", "no signature by the log key");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3 || !/^(0|[1-9][0-9]{0,15})$/.test(lines[1])) {
    throw new CheckFailed("signature", "not a checkpoint");
  }
  if (!Number.isSafeInteger(Number(lines[1]))) throw new CheckFailed("signature", "the tree is too large for this page");
  if (lines[0] !== key.name) throw new CheckFailed("signature", "the checkpoint is for another log");
  const root = b64decode(lines[2]);
  if (root.length !== 32) throw new CheckFailed("signature", "the root is not 32 bytes");
  return { origin: lines[0], size: Number(lines[1]), root, keyId: hex(key.keyId) };
}

// -- RFC 9162 §2.1 (identity.log.hashing, identity.log.proofs) -------------------------
export async function leafHash(bytes) {
  return sha256(concat(Uint8Array.of(0), bytes));
}

async function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

// Sizes are JS numbers (exact below 2^53); halving by division, not >>, which is 32-bit.
const half = (n) => Math.floor(n / 2);
const odd = (n) => n % 2 === 1;

// RFC 9162 §2.1.3.2: the root an inclusion proof implies (proofs.root_from_inclusion).
export async function rootFromInclusion(index, size, leaf, path) {
  if (!(index >= 0 && index < size)) throw new CheckFailed("inclusion", "leaf index outside the tree");
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) throw new CheckFailed("inclusion", "inclusion proof is too long");
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn); sn = half(sn);
  }
  if (sn !== 0) throw new CheckFailed("inclusion", "inclusion proof is too short");
  return r;
}

export async function verifyInclusion(index, size, leaf, path, root) {
  if (!equal(await rootFromInclusion(index, size, leaf, path), root)) {
    throw new CheckFailed("inclusion", "the inclusion proof does not lead to the root");
  }
}

// RFC 9162 §2.1.4.2 (proofs.verify_consistency, same edge-case policy).
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  if (size1 < 1 || size2 < size1) throw new CheckFailed("consistency", "needs 0 < first <= second");
  if (size1 === size2) {
    if (proof.length || !equal(root1, root2)) {
      throw new CheckFailed("consistency", "equal sizes need an empty proof and equal roots");
    }
    return;
  }
  if (!proof.length) throw new CheckFailed("consistency", "the consistency proof is empty");
  const path = powerOfTwo(size1) ? [root1, ...proof] : [...proof]; // step 2
  let fn = size1 - 1, sn = size2 - 1;
  while (odd(fn)) { fn = half(fn); sn = half(sn); }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) throw new CheckFailed("consistency", "the consistency proof is too long");
    if (odd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn); sn = half(sn);
  }
  if (!equal(fr, root1) || !equal(sr, root2) || sn !== 0) {
    throw new CheckFailed("consistency", "the consistency proof does not verify");
  }
}

function powerOfTwo(n) {
  while (n > 1) { if (odd(n)) return false; n = half(n); }
  return n === 1;
}

// -- eddsa-jcs-2022 signing (identity.proofs.add_proof with EddsaJcs2022) ---------------
export function xsdNow() {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

export async function addProof(document, options, privateKey) {
  const unsecured = { ...document };
  delete unsecured.proof;
  const proofOptions = { ...options };
  if ("@context" in unsecured && !("@context" in proofOptions)) proofOptions["@context"] = unsecured["@context"];
  const config = { ...proofOptions, "@context": unsecured["@context"] };
  if (!("@context" in unsecured)) delete config["@context"];
  const data = concat(await sha256(enc.encode(jcs(config))), await sha256(enc.encode(jcs(unsecured))));
  const signature = new Uint8Array(await subtle.sign({ name: "Ed25519" }, privateKey, data));
  return { ...unsecured, proof: { ...proofOptions, proofValue: "z" + base58(signature) } };
}
