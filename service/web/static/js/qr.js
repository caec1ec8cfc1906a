// Credential QR codes: "VC1:" + base45(zlib(JCS)) -- identity/credentials/qrcode.py.
// Images and camera frames are read with jsQR (vendored from npm by scripts/vendor-assets).

export const PREFIX = "VC1:";
const BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

export function b45decode(text) {
  if (text.length % 3 === 1) throw new Error("base45 text cannot have 3n+1 characters");
  const out = [];
  for (let i = 0; i < text.length; i += 3) {
    const chunk = text.slice(i, i + 3).split("").map((c) => {
      const v = BASE45.indexOf(c);
      if (v < 0) throw new Error("not base45");
      return v;
    });
    const n = chunk.reduce((acc, v, k) => acc + v * 45 ** k, 0);
    if (chunk.length === 3) {
      if (n > 0xffff) throw new Error("not base45");
      out.push(n >> 8, n & 0xff);
    } else {
      if (n > 0xff) throw new Error("not base45");
      out.push(n);
    }
  }
  return Uint8Array.from(out);
}

export function isPayload(text) {
  return text.trim().startsWith(PREFIX);
}

// The credential a payload carries (not verified: the page then verifies it as pasted).
export async function decodePayload(text) {
  const packed = b45decode(text.trim().slice(PREFIX.length));
  const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("deflate"));
  const json = await new Response(stream).text();
  return JSON.parse(json);
}

export function decoderAvailable() {
  return typeof globalThis.jsQR === "function";
}

function readPixels(source, width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

// The text of the QR code in an image file (a photo or the service's PNG), or null.
export async function readImageFile(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const w = Math.round(bitmap.width * scale), h = Math.round(bitmap.height * scale);
  const pixels = readPixels(bitmap, w, h);
  const found = globalThis.jsQR(pixels.data, w, h, { inversionAttempts: "attemptBoth" });
  return found ? found.data : null;
}

// Scan with the camera until a code is read or stop() is called.
export async function scanCamera(video, onText) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  await video.play();
  let running = true;
  const stop = () => {
    running = false;
    stream.getTracks().forEach((t) => t.stop());
    video.srcObject = null;
  };
  const tick = () => {
    if (!running) return;
    if (video.videoWidth) {
      const pixels = readPixels(video, video.videoWidth, video.videoHeight);
      const found = globalThis.jsQR(pixels.data, pixels.width, pixels.height);
      if (found && found.data) { stop(); onText(found.data); return; }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return stop;
}
