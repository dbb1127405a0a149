// The demo page of `realtime-config serve --demo`: pick a preset, start a WebRTC call through
// this server's POST /calls/{name}, and watch each step, the microphone and the data channel.
// Every URL is relative, so the page works wherever the app is mounted; nothing here holds a key.

const STEPS = ["microphone", "offer", "answer", "connected"];
const ICE_GATHERING_MS = 3000;
const CONNECT_MS = 20000;

const $ = (id) => document.getElementById(id);
const picker = $("preset");
const button = $("start");
const status = $("status");
const level = $("level");
const log = $("log");

let call = null; // {pc, stream, audio, frame, stopped}

function setState(state, text) {
  document.body.dataset.state = state;
  status.className = state;
  status.textContent = text;
}

function mark(step, state) {
  const item = document.querySelector(`#steps li[data-step="${step}"]`);
  item.className = state;
}

function resetSteps() {
  for (const step of STEPS) mark(step, "");
}

function logEvent(text) {
  if (log.firstElementChild?.classList.contains("empty")) log.textContent = "";
  const item = document.createElement("li");
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  const when = document.createElement("time");
  const name = document.createElement("code");
  const body = document.createElement("pre");
  when.textContent = new Date().toLocaleTimeString();
  try {
    const event = JSON.parse(text);
    name.textContent = event.type ?? "(no type)";
    body.textContent = JSON.stringify(event, null, 2);
  } catch {
    name.textContent = "(not JSON)";
    body.textContent = text;
  }
  summary.append(when, name);
  details.append(summary, body);
  item.append(details);
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

/** The reason a failed fetch gives: the server's JSON error, its Retry-After, or the status. */
async function reasonOf(response) {
  const body = await response.json().catch(() => null);
  const reason = body?.error?.message ?? `HTTP ${response.status}`;
  const retry = response.headers.get("Retry-After");
  return retry ? `${reason} (retry after ${retry} s)` : reason;
}

function presetPath(name) {
  return name.split("/").map(encodeURIComponent).join("/");
}

async function loadPresets() {
  let response;
  try {
    response = await fetch("presets", { headers: { Accept: "application/json" } });
  } catch (error) {
    setState("failed", `cannot list the presets: this server did not answer (${error.message})`);
    return;
  }
  if (!response.ok) {
    setState("failed", `cannot list the presets: ${await reasonOf(response)}`);
    return;
  }
  const { presets } = await response.json();
  const callable = presets.filter((preset) => preset.calls);
  picker.textContent = "";
  for (const preset of callable) {
    const option = document.createElement("option");
    option.value = preset.name;
    option.textContent = preset.description ? `${preset.name}: ${preset.description}` : preset.name;
    picker.append(option);
  }
  if (!callable.length) {
    setState("failed", "no preset served here can place a WebRTC call");
    return;
  }
  const asked = new URLSearchParams(location.search).get("preset");
  if (asked && callable.some((preset) => preset.name === asked)) picker.value = asked;
  picker.disabled = button.disabled = false;
  setState("ready", "ready: pick a preset and press Start");
}

/** Show the microphone's level (RMS of the waveform) until the call stops. */
function meter(stream) {
  const audio = new AudioContext();
  const analyser = audio.createAnalyser();
  analyser.fftSize = 1024;
  audio.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const draw = () => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const sample of samples) sum += sample * sample;
    level.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    call.frame = requestAnimationFrame(draw);
  };
  call.audio = audio;
  draw();
}

/** Resolve once ICE gathering is complete (the offer then carries every candidate), or soon. */
function iceGathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ICE_GATHERING_MS);
  });
}

/** Resolve when the data channel opens; reject when the connection fails or takes too long. */
function opened(pc, events) {
  return new Promise((resolve, reject) => {
    if (events.readyState === "open") return resolve();
    events.addEventListener("open", () => resolve());
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed") reject(new Error("the peer connection failed (ICE)"));
    });
    setTimeout(
      () => reject(new Error(`no connection within ${CONNECT_MS / 1000} s (${pc.connectionState})`)),
      CONNECT_MS,
    );
  });
}

async function start() {
  const preset = picker.value;
  resetSteps();
  log.innerHTML = '<li class="empty">no events yet</li>';
  call = { pc: null, stream: null, audio: null, frame: 0, stopped: false };
  const current = call;
  button.textContent = "Stop";
  button.classList.add("stop");
  picker.disabled = true;
  let step = "microphone";
  try {
    mark(step, "active");
    setState("working", "asking for the microphone");
    try {
      current.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      throw new Error(error.name === "NotAllowedError" ? "permission denied" : error.message);
    }
    meter(current.stream);
    mark(step, "done");

    step = "offer";
    mark(step, "active");
    setState("working", "making the offer");
    const pc = (current.pc = new RTCPeerConnection());
    pc.addEventListener("track", (event) => {
      $("remote").srcObject = event.streams[0];
    });
    for (const track of current.stream.getTracks()) pc.addTrack(track, current.stream);
    const events = pc.createDataChannel("oai-events");
    events.addEventListener("message", (event) => logEvent(event.data));
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    mark(step, "done");

    step = "answer";
    mark(step, "active");
    setState("working", `placing the call with ${preset}`);
    let response;
    try {
      response = await fetch(`calls/${presetPath(preset)}`, {
        method: "POST",
        body: pc.localDescription.sdp,
        headers: { "Content-Type": "application/sdp" },
      });
    } catch (error) {
      throw new Error(`this server did not answer (${error.message})`);
    }
    if (response.status !== 201) throw new Error(await reasonOf(response));
    const callId = (response.headers.get("Location") ?? "").split("/").pop();
    await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
    mark(step, "done");

    step = "connected";
    mark(step, "active");
    setState("working", "connecting");
    await opened(pc, events);
    if (current.stopped) return;
    mark(step, "done");
    setState("connected", callId ? `connected (call ${callId}): speak` : "connected: speak");
  } catch (error) {
    if (current.stopped) return;
    mark(step, "failed");
    setState("failed", `failed at ${step}: ${error.message}`);
    stop(false);
  }
}

function stop(byUser = true) {
  if (!call) return;
  call.stopped = byUser;
  cancelAnimationFrame(call.frame);
  call.pc?.close();
  for (const track of call.stream?.getTracks() ?? []) track.stop();
  call.audio?.close();
  call = null;
  level.value = 0;
  button.textContent = "Start";
  button.classList.remove("stop");
  picker.disabled = false;
  if (byUser) {
    resetSteps();
    setState("ready", "stopped");
  }
}

button.addEventListener("click", () => (call ? stop() : start()));
loadPresets();
