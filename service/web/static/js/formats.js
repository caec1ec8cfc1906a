// The credential formats the verifier page reads besides Data Integrity JSON:
// SD-JWT VCs and presentations (docs/sd-jwt.md) and VC-JOSE-COSE envelopes
// (docs/jose-cose.md). Pure functions: what the pasted text is, and what to send.
import { b64decode, hex, sha256 } from "./crypto.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
export const BASE_CONTEXT = "https://www.w3.org/ns/credentials/v2";
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;
const SD_JWT_TYPES = ["dc+sd-jwt", "vc+sd-jwt"];

// Unpadded base64url (RFC 7515 §2) to bytes; throws on what atob refuses.
function b64urlDecode(text) {
  const standard = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(standard + "=".repeat((4 - (standard.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

// A JSON object from one base64url part of a compact JWS, or null.
function jsonPart(part) {
  try {
    const value = JSON.parse(dec.decode(b64urlDecode(part)));
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

// What a pasted text that is not JSON is: {kind: "sd-jwt", token} for an SD-JWT (VC or
// presentation, the compact `~`-separated form, RFC 9901 §4), {kind: "envelope", doc} for a
// bare compact JWS, wrapped as the EnvelopedVerifiableCredential (or -Presentation) the API
// takes (VC DM 2.0 §4.13: `data:<media type>,<token>`), or null.
export function classify(text) {
  if (text.includes("~")) {
    const issuerJwt = text.split("~")[0];
    return COMPACT_JWS.test(issuerJwt) ? { kind: "sd-jwt", token: text } : null;
  }
  if (!COMPACT_JWS.test(text)) return null;
  const [headerPart, payloadPart] = text.split(".");
  const header = jsonPart(headerPart);
  if (!header) return null;
  const typ = typeof header.typ === "string" ? header.typ.toLowerCase().replace(/^application\//, "") : "";
  if (SD_JWT_TYPES.includes(typ)) return { kind: "sd-jwt", token: text + "~" }; // no disclosures
  const payload = jsonPart(payloadPart) || {};
  const presentation = typ === "vp+jwt" || (typ !== "vc+jwt" && payload.vp !== undefined);
  const mediaType = typ === "vc+jwt" || typ === "vp+jwt" ? `application/${typ}` : "application/jwt";
  const type = presentation ? "EnvelopedVerifiablePresentation" : "EnvelopedVerifiableCredential";
  return { kind: "envelope", doc: { "@context": BASE_CONTEXT, type, id: `data:${mediaType},${text}` } };
}

export function isEnvelope(doc) {
  const types = Array.isArray(doc.type) ? doc.type : [doc.type];
  return types.includes("EnvelopedVerifiableCredential") || types.includes("EnvelopedVerifiablePresentation");
}

// RFC 2397: the media type and the token bytes of an envelope's data: URL, or null.
export function openEnvelope(doc) {
  const id = typeof doc.id === "string" ? doc.id : "";
  const comma = id.indexOf(",");
  if (!id.startsWith("data:") || comma < 0) return null;
  const params = id.slice(5, comma).split(";");
  const data = id.slice(comma + 1);
  try {
    const bytes = params.includes("base64") ? b64decode(data) : enc.encode(decodeURIComponent(data));
    return { mediaType: params[0].toLowerCase(), bytes };
  } catch {
    return null;
  }
}

// The credential inside a JWS envelope (vc+jwt; the `vc` claim of a VC DM 1.1 JWT), for
// showing its claims; null for COSE, which this page does not decode.
export function envelopedCredential(doc) {
  const opened = openEnvelope(doc);
  if (!opened || !opened.mediaType.endsWith("jwt")) return null;
  const parts = dec.decode(opened.bytes).split(".");
  const payload = parts.length === 3 ? jsonPart(parts[1]) : null;
  if (!payload) return null;
  return opened.mediaType === "application/jwt" && payload.vc ? payload.vc : payload;
}

// "sha256:<hex>" the issuance leaf holds (`credential_digest`): of the token handed out for
// an envelope (docs/jose-cose.md, Anchoring), of the issuer-signed JWT for an SD-JWT VC.
export async function tokenDigest(bytes) {
  return "sha256:" + hex(await sha256(bytes));
}

export function envelopeDigest(doc) {
  const opened = openEnvelope(doc);
  return opened ? tokenDigest(opened.bytes) : null;
}

export function sdJwtDigest(token) {
  return tokenDigest(enc.encode(token.split("~")[0]));
}

// The display name of each claim in the page's language, from SD-JWT VC type metadata
// (`GET /vct/<Type>`: claims[].path and display[].locale/label).
export function claimLabels(metadata, language) {
  const labels = {};
  for (const claim of (metadata && metadata.claims) || []) {
    const display = claim.display || [];
    const chosen = display.find((d) => d.locale === language) || display.find((d) => d.locale === "en") || display[0];
    if (chosen && Array.isArray(claim.path)) labels[claim.path.join(".")] = chosen.label;
  }
  return labels;
}

export function typeName(metadata, language) {
  const display = (metadata && metadata.display) || [];
  const chosen = display.find((d) => d.locale === language) || display.find((d) => d.locale === "en");
  return chosen ? chosen.name : metadata && metadata.name;
}
