// The browser side of a Realtime voice app: ask our own backend for an ephemeral client
// secret, then open the WebRTC call with it. The API key never reaches the browser.

/** Mint a client secret: POST {backend}/sessions/{preset}; resolves to {value, expires_at, session}. */
export async function fetchClientSecret(backend, preset = "assistant", init = {}) {
  const response = await fetch(`${backend}/sessions/${preset}`, { method: "POST", ...init });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const retry = response.headers.get("Retry-After");
    const reason = body?.error?.message ?? `HTTP ${response.status}`;
    throw new Error(retry ? `${reason} (retry after ${retry} s)` : reason);
  }
  return body;
}

/** Open the Realtime call over WebRTC with the secret's value; resolves to {pc, events}. */
export async function connect(secret, audioElement) {
  const pc = new RTCPeerConnection();
  pc.ontrack = (event) => {
    audioElement.srcObject = event.streams[0];
  };
  const microphone = await navigator.mediaDevices.getUserMedia({ audio: true });
  pc.addTrack(microphone.getTracks()[0]);
  const events = pc.createDataChannel("oai-events");
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const answer = await fetch("https://api.openai.com/v1/realtime/calls", {
    method: "POST",
    body: offer.sdp,
    headers: { Authorization: `Bearer ${secret.value}`, "Content-Type": "application/sdp" },
  });
  if (!answer.ok) throw new Error(`the Realtime API refused the call: HTTP ${answer.status}`);
  await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
  return { pc, events };
}
