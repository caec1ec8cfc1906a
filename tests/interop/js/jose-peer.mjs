// panva's `jose` (npm) as an independent JOSE peer for VC-JOSE-COSE envelopes: sign or
// verify one compact JWS with an Ed25519 key. One JSON request on stdin, one answer out:
//   {"op": "sign", "seed": "<64 hex>", "header": {...}, "payload": {...}}
//     -> {"token": "<compact JWS>", "publicKey": "<64 hex>"}
//   {"op": "verify", "token": "...", "publicKey": "<64 hex>", "typ": "vc+jwt"}
//     -> {"verified": true, "header": {...}, "payload": {...}} | {"verified": false, "error": "..."}
// The key is built with Node's own crypto (PKCS#8 / SPKI DER around the raw Ed25519 key).
import {createPrivateKey, createPublicKey} from 'node:crypto';
import {CompactSign, compactVerify} from 'jose';

const PKCS8_ED25519 = '302e020100300506032b657004220420';
const SPKI_ED25519 = '302a300506032b6570032100';

async function sign({seed, header, payload}) {
  const key = createPrivateKey({key: Buffer.from(PKCS8_ED25519 + seed, 'hex'), format: 'der', type: 'pkcs8'});
  const raw = createPublicKey(key).export({format: 'der', type: 'spki'}).subarray(12);
  const bytes = new TextEncoder().encode(JSON.stringify(payload));
  const token = await new CompactSign(bytes).setProtectedHeader(header).sign(key);
  return {token, publicKey: Buffer.from(raw).toString('hex')};
}

async function verify({token, publicKey, typ}) {
  const key = createPublicKey({key: Buffer.from(SPKI_ED25519 + publicKey, 'hex'), format: 'der', type: 'spki'});
  try {
    const {payload, protectedHeader} = await compactVerify(token, key, {algorithms: ['EdDSA', 'Ed25519']});
    if(typ && protectedHeader.typ !== typ) {
      return {verified: false, error: `typ is ${protectedHeader.typ}`};
    }
    return {verified: true, header: protectedHeader, payload: JSON.parse(new TextDecoder().decode(payload))};
  } catch(e) {
    return {verified: false, error: String(e && e.code || e)};
  }
}

let input = '';
process.stdin.on('data', chunk => input += chunk);
process.stdin.on('end', async () => {
  const request = JSON.parse(input);
  const answer = request.op === 'sign' ? await sign(request) : await verify(request);
  process.stdout.write(JSON.stringify(answer));
});
