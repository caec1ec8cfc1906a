// The authorization code flow of OpenID4VCI 1.0 (§5, PKCE S256) played by the
// OpenWallet Foundation's @openid4vc libraries, in two steps around the citizen's DID
// sign-in (which the Python test does, as the person would in between):
//   {"step": "start", "offerUri", "redirectUri"} -> {"authorizationRequestUrl", "codeVerifier"}
//     the library builds the Authorization Request (PKCE, issuer_state, scope, resource)
//     from the service's offer and metadata;
//   {"step": "finish", "offerUri", "redirectUri", "codeVerifier", "redirectedTo",
//    "didUrl", "privateJwk"} -> the credential's claims
//     it parses the redirect and checks iss (RFC 9207), exchanges the code with the
//     verifier, fetches a c_nonce, signs a jwt proof (kid = didUrl: a did:key or a
//     did:cityid verification method) with the citizen's key and
//     receives the SD-JWT VC, which @sd-jwt/sd-jwt-vc verifies.
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify } from "node:crypto";
import { Openid4vciClient } from "@openid4vc/openid4vci";
import { clientAuthenticationDynamic, setGlobalConfig } from "@openid4vc/oauth2";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { digest } from "@sd-jwt/crypto-nodejs";

setGlobalConfig({ allowInsecureUrls: true }); // the test service is http on loopback

const b64u = (data) => Buffer.from(data).toString("base64url");
const request = JSON.parse(await new Promise((done) => {
  let text = ""; process.stdin.on("data", (c) => (text += c)); process.stdin.on("end", () => done(text));
}));
const privateKey = request.privateJwk ? createPrivateKey({ key: request.privateJwk, format: "jwk" }) : null;

const CLIENT_ID = "openid4vc-ts-wallet";
const callbacks = {
  hash: (data, alg) => createHash(alg.replace("-", "")).update(data).digest(),
  generateRandom: (n) => randomBytes(n),
  // a public client (token_endpoint_auth_methods_supported ["none"]): client_id in the body
  clientAuthentication: clientAuthenticationDynamic({ clientId: CLIENT_ID }),
  fetch: globalThis.fetch,
  signJwt: async (signer, { header, payload }) => {
    const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
    const signature = sign(null, Buffer.from(input), privateKey); // Ed25519
    return { jwt: `${input}.${b64u(signature)}` };
  },
};
const client = new Openid4vciClient({ callbacks });
const offer = await client.resolveCredentialOffer(request.offerUri);
const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
const configurationId = offer.credential_configuration_ids[0];
const scope = issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId].scope;

if (request.step === "start") {
  const { authorizationRequestUrl, pkce } = await client.createAuthorizationRequestUrlFromOffer({
    credentialOffer: offer, issuerMetadata, clientId: CLIENT_ID, redirectUri: request.redirectUri, scope,
  });
  process.stdout.write(JSON.stringify({ authorizationRequestUrl, codeVerifier: pkce.codeVerifier }));
  process.exit(0);
}

const authorizationServerMetadata = issuerMetadata.authorizationServers[0];
const response = client.parseAndVerifyAuthorizationResponseRedirectUrl({
  url: request.redirectedTo, authorizationServerMetadata,
});
const { accessTokenResponse } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
  credentialOffer: offer, issuerMetadata, authorizationCode: response.code,
  pkceCodeVerifier: request.codeVerifier, redirectUri: request.redirectUri,
});
const { c_nonce } = await client.requestNonce({ issuerMetadata });
const { jwt } = await client.createCredentialRequestJwtProof({
  issuerMetadata, credentialConfigurationId: configurationId, nonce: c_nonce, clientId: CLIENT_ID,
  signer: { method: "did", alg: "EdDSA", didUrl: request.didUrl },
});
const answer = await client.retrieveCredentials({
  issuerMetadata, accessToken: accessTokenResponse.access_token,
  credentialConfigurationId: configurationId, proofs: { jwt: [jwt] },
});
const credential = answer.credentialResponse.credentials[0].credential;
const jwks = await (await fetch(new URL("/.well-known/jwt-vc-issuer", offer.credential_issuer))).json();
const kid = JSON.parse(Buffer.from(credential.split(".")[0], "base64url")).kid;
const issuerJwk = jwks.jwks.keys.find((k) => k.kid === kid);
const sdjwt = new SDJwtVcInstance({
  hasher: digest,
  verifier: async (data, signature) => verify(null, Buffer.from(data),
    createPublicKey({ key: issuerJwk, format: "jwk" }), Buffer.from(signature, "base64url")),
  loadTypeMetadataFormat: false,
});
const verified = await sdjwt.verify(credential);
process.stdout.write(JSON.stringify({
  configurationId, claims: verified.payload, iss: response.iss, tokenType: accessTokenResponse.token_type,
}));
