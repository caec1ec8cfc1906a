// The OpenWallet Foundation's @sd-jwt/sd-jwt-vc, driven by tests/interop/test_sdjwt_interop.py.
// One JSON request on stdin, one JSON answer on stdout. Keys are JWKs; signatures use
// Node's own crypto (Ed25519 for EdDSA, P-256 with IEEE P1363 signatures for ES256).
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { digest, generateSalt } from "@sd-jwt/crypto-nodejs";

const b64u = (buf) => Buffer.from(buf).toString("base64url");
const hashOf = (jwk) => (jwk.kty === "OKP" ? null : "sha256");

function signerFor(privateJwk) {
  const key = createPrivateKey({ key: privateJwk, format: "jwk" });
  return async (data) => b64u(sign(hashOf(privateJwk), Buffer.from(data), { key, dsaEncoding: "ieee-p1363" }));
}

function verifierFor(publicJwk) {
  const key = createPublicKey({ key: publicJwk, format: "jwk" });
  return async (data, signature) =>
    verify(hashOf(publicJwk), Buffer.from(data), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));
}

const request = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

async function main() {
  if (request.op === "verify") {
    const sdjwt = new SDJwtVcInstance({
      hasher: digest,
      verifier: verifierFor(request.issuerJwk),
      kbVerifier: async (data, signature, payload) => verifierFor(payload.cnf.jwk)(data, signature),
      statusListFetcher: async (uri) => {
        if (uri !== request.statusListUri) throw new Error(`unexpected status list ${uri}`);
        return request.statusListJwt;
      },
      loadTypeMetadataFormat: false,
    });
    const result = await sdjwt.verify(request.token, {
      keyBindingNonce: request.nonce,
      currentDate: request.now,
    });
    const claims = await (await import("@sd-jwt/core")).SDJwt.fromEncode(request.token, digest)
      .then((s) => s.getClaims(digest));
    return { payload: result.payload, header: result.header, kb: result.kb ?? null, claims };
  }
  if (request.op === "issue") {
    const sdjwt = new SDJwtVcInstance({
      hasher: digest,
      saltGenerator: generateSalt,
      signer: signerFor(request.issuerJwk),
      signAlg: "EdDSA",
      kbSigner: signerFor(request.holderJwk),
      kbSignAlg: request.holderJwk.kty === "EC" ? "ES256" : "EdDSA",
    });
    const issued = await sdjwt.issue(request.payload, { _sd: request.disclosable, _sd_decoy: 2 }, {
      header: { kid: request.kid },
    });
    const presentation = await sdjwt.present(issued, request.presentationFrame, {
      kb: { payload: { iat: request.iat, aud: request.aud, nonce: request.nonce } },
    });
    return { issued, presentation };
  }
  throw new Error(`unknown op ${request.op}`);
}

main().then(
  (out) => process.stdout.write(JSON.stringify(out)),
  (err) => {
    process.stdout.write(JSON.stringify({ error: String(err && err.message ? err.message : err) }));
    process.exitCode = 0;
  },
);
