// Digital Bazaar's VC and Data Integrity libraries as a peer: sign or verify one credential
// with eddsa-rdfc-2022. Reads one JSON request on stdin, writes one JSON answer on stdout:
//   {"op": "sign", "seed": "<64 hex>", "credential": {...}, "contexts": {url: doc},
//    "created": "<dateTime>"}
//     -> {"verifiableCredential": {...}}
//   {"op": "verify", "credential": {...}, "contexts": {url: doc}, "now": "<dateTime>"}
//     -> {"verified": bool, "error": "..."}
// Offline: contexts come from the libraries' own packages and the request; did:key is
// resolved by @digitalbazaar/did-method-key. Status is not the peer's business here: a
// credentialStatus is accepted as given (checkStatus below), the proof is what is checked.
import * as credentialsContext from '@digitalbazaar/credentials-context';
import * as dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import * as didKey from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as multikeyContext from '@digitalbazaar/multikey-context';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const didKeyDriver = didKey.driver();
didKeyDriver.use({
  multibaseMultikeyHeader: 'z6Mk',
  fromMultibase: Ed25519Multikey.from
});

function documentLoaderFor(extra = {}) {
  const contexts = new Map([
    ...credentialsContext.contexts,
    ...dataIntegrityContext.contexts,
    ...multikeyContext.contexts,
    ...Object.entries(extra)
  ]);
  return async url => {
    if(contexts.has(url)) {
      return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
    }
    if(url.startsWith('did:key:')) {
      const document = await didKeyDriver.get({url});
      return {contextUrl: null, documentUrl: url, document};
    }
    throw new Error(`offline document loader: ${url} is not known`);
  };
}

async function sign({seed, credential, contexts, created}) {
  const keyPair = await Ed25519Multikey.generate({seed: Buffer.from(seed, 'hex')});
  keyPair.controller = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.id = `${keyPair.controller}#${keyPair.publicKeyMultibase}`;
  credential.issuer = keyPair.controller;
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(), cryptosuite: eddsaRdfc2022,
    date: created ? new Date(created) : undefined
  });
  const documentLoader = documentLoaderFor(contexts);
  const verifiableCredential = await vc.issue({credential, suite, documentLoader});
  return {verifiableCredential};
}

async function verify({credential, contexts, now}) {
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  const result = await vc.verifyCredential({
    credential,
    suite,
    documentLoader: documentLoaderFor(contexts),
    now: now ? new Date(now) : undefined,
    checkStatus: async () => ({verified: true})
  });
  const error = result.error ?
    (result.error.errors || [result.error]).map(e => e.message).join('; ') : '';
  return {verified: result.verified, error};
}

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const answer = request.op === 'sign' ? await sign(request) : await verify(request);
process.stdout.write(JSON.stringify(answer));
