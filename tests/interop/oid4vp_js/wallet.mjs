// An independent OpenID4VP 1.0 wallet for tests/interop/test_oid4vp_interop.py: the
// OpenWallet Foundation's @openid4vc/openid4vp parses and resolves the service's
// authorization request (fetching and verifying the signed request object through the
// callbacks below), and @sd-jwt/sd-jwt-vc builds the SD-JWT VC presentation with its
// Key Binding JWT (holder key given as a JWK). One JSON request on stdin; one JSON answer
// (the direct_post form and what the library resolved) on stdout.
import { createHash, createPublicKey, createPrivateKey, sign, verify } from "node:crypto";
import { Openid4vpClient } from "@openid4vc/openid4vp";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { digest } from "@sd-jwt/crypto-nodejs";

const b64u = (buf) => Buffer.from(buf).toString("base64url");
const hashOf = (jwk) => (jwk.kty === "OKP" ? null : "sha256");
const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (c) => (text += c));
  process.stdin.on("end", () => resolve(text));
}));

const callbacks = {
  hash: (data, alg) => createHash(alg.replace("-", "").toLowerCase()).update(data).digest(),
  generateRandom: (n) => crypto.getRandomValues(new Uint8Array(n)),
  // the request_uri is answered with the request object the test fetched from the service
  fetch: async (url) => {
    if (url !== input.requestUri) throw new Error(`unexpected fetch ${url}`);
    return new Response(input.requestObject, {
      status: 200,
      headers: { "content-type": "application/oauth-authz-req+jwt" },
    });
  },
  verifyJwt: async (signer, jwt) => {
    if (signer.method !== "did") return { verified: false };
    const did = signer.didUrl.split("#")[0];
    const jwk = input.didKeys[did];
    if (!jwk) return { verified: false };
    const [h, p, s] = jwt.compact.split(".");
    const ok = verify(null, Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: "jwk" }),
      Buffer.from(s, "base64url"));
    return ok ? { verified: true, signerJwk: jwk } : { verified: false, signerJwk: jwk };
  },
};

async function main() {
  const client = new Openid4vpClient({ callbacks });
  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: input.uri });
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: parsed.params,
  });
  const request = resolved.authorizationRequestPayload;
  const query = resolved.dcql.query;
  const holderKey = createPrivateKey({ key: input.holderJwk, format: "jwk" });
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    kbSigner: async (data) => b64u(sign(hashOf(input.holderJwk), Buffer.from(data),
      { key: holderKey, dsaEncoding: "ieee-p1363" })),
    kbSignAlg: input.holderJwk.kty === "EC" ? "ES256" : "EdDSA",
  });
  const vp_token = {};
  for (const cq of query.credentials) {
    const frame = Object.fromEntries(cq.claims.map((c) => [c.path[0], true]));
    vp_token[cq.id] = [await sdjwt.present(input.credential, frame, {
      kb: { payload: { iat: input.iat, aud: request.client_id, nonce: request.nonce } },
    })];
  }
  const response = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: { vp_token },
  });
  const payload = response.authorizationResponsePayload;
  const form = Object.fromEntries(Object.entries(payload).map(
    ([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  return { form, responseUri: request.response_uri, version: resolved.version,
    clientPrefix: resolved.client.prefix, clientId: resolved.client.effective ?? resolved.client.clientId };
}

main().then(
  (out) => process.stdout.write(JSON.stringify(out)),
  (err) => process.stdout.write(JSON.stringify({ error: String(err?.stack ?? err) })),
);
