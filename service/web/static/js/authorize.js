// The sign-in page of the OpenID4VCI authorization code flow: when this browser holds
// the portal's key (IndexedDB "identity-wallet", as static/js/wallet.js keeps it), sign
// the DID-auth presentation over this request's challenge here and submit the form;
// otherwise the citizen pastes a presentation their wallet signed.
import { $, t } from "./common.js";
import { addProof, xsdNow } from "./crypto.js";

const V2 = "https://www.w3.org/ns/credentials/v2";

function browserKey() {
  return new Promise((resolve) => {
    const open = indexedDB.open("identity-wallet", 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore("keys");
      open.result.createObjectStore("credentials");
    };
    open.onerror = () => resolve(undefined);
    open.onsuccess = () => {
      const request = open.result.transaction("keys", "readonly").objectStore("keys").get("current");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(undefined);
    };
  });
}

async function signHere(key) {
  $("authorize-status").textContent = t("authorize_signing");
  const presentation = { "@context": [V2], type: ["VerifiablePresentation"], holder: key.did, verifiableCredential: [] };
  const vp = await addProof(presentation, {
    type: "DataIntegrityProof", cryptosuite: "eddsa-jcs-2022", created: xsdNow(),
    verificationMethod: key.method, proofPurpose: "authentication",
    challenge: $("challenge").textContent, domain: $("domain").textContent,
  }, key.privateKey);
  $("presentation").value = JSON.stringify(vp);
  $("sign-in-form").requestSubmit();
}

const key = await browserKey();
if (key && key.did) {
  const button = $("sign-in-browser");
  button.hidden = false;
  button.textContent = t("authorize_with_browser_key", { did: key.did });
  button.addEventListener("click", () => signHere(key));
}
