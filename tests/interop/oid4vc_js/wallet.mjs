// The wallet side of OpenID4VCI 1.0 played by the OpenWallet Foundation's @openid4vc
// libraries: resolve an offer, pre-authorized code flow with the PIN, nonce, a jwt key
// proof, the credential; then @sd-jwt/sd-jwt-vc verifies the SD-JWT VC it received.
// Request on stdin: {"offerUri", "pin"}; answer on stdout: the token's claims.
import { createHash, generateKeyPairSync, randomBytes, sign, verify, createPublicKey } from "node:crypto";
import { Openid4vciClient } from "@openid4vc/openid4vci";
import { clientAuthenticationAnonymous, setGlobalConfig } from "@openid4vc/oauth2";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { digest } from "@sd-jwt/crypto-nodejs";

// The test service listens on plain http on loopback; a deployment is https.
setGlobalConfig({ allowInsecureUrls: true });

const b64u = (data) => Buffer.from(data).toString("base64url");
const request = JSON.parse(await new Promise((done) => {
  let text = ""; process.stdin.on("data", (c) => (text += c)); process.stdin.on("end", () => done(text));
}));

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const holderJwk = publicKey.export({ format: "jwk" });

const callbacks = {
  hash: (data, alg) => createHash(alg.replace("-", "")).update(data).digest(),
  generateRandom: (n) => randomBytes(n),
  clientAuthentication: clientAuthenticationAnonymous(),
  fetch: globalThis.fetch,
  signJwt: async (signer, { header, payload }) => {
    const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
    const signature = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
    return { jwt: `${input}.${b64u(signature)}`, signerJwk: holderJwk };
  },
};

const client = new Openid4vciClient({ callbacks });
const offer = await client.resolveCredentialOffer(request.offerUri);
const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
  credentialOffer: offer, issuerMetadata, txCode: request.pin,
});
const configurationId = offer.credential_configuration_ids[0];
const { c_nonce } = await client.requestNonce({ issuerMetadata });
const { jwt } = await client.createCredentialRequestJwtProof({
  issuerMetadata, credentialConfigurationId: configurationId, nonce: c_nonce,
  signer: { method: "jwk", alg: "ES256", publicJwk: holderJwk },
});
const answer = await client.retrieveCredentials({
  issuerMetadata, accessToken: accessTokenResponse.access_token,
  credentialConfigurationId: configurationId, proofs: { jwt: [jwt] },
});
const credential = answer.credentialResponse.credentials[0].credential;

// The issuer's key from its JWT VC issuer metadata, as any verifier would find it.
const iss = offer.credential_issuer;
const jwks = await (await fetch(new URL("/.well-known/jwt-vc-issuer", iss))).json();
const kid = JSON.parse(Buffer.from(credential.split(".")[0], "base64url")).kid;
const issuerJwk = jwks.jwks.keys.find((k) => k.kid === kid);
const sdjwt = new SDJwtVcInstance({
  hasher: digest,
  verifier: async (data, signature) => verify(null, Buffer.from(data),
    createPublicKey({ key: issuerJwk, format: "jwk" }), Buffer.from(signature, "base64url")),
  loadTypeMetadataFormat: false,
});
const verified = await sdjwt.verify(credential);
const notified = await client.sendNotification({
  issuerMetadata, accessToken: accessTokenResponse.access_token,
  notification: { notificationId: answer.credentialResponse.notification_id, event: "credential_accepted" },
});
process.stdout.write(JSON.stringify({
  configurationId, claims: verified.payload, holderJwk, notified: notified.ok ?? true,
}));
