// The live preview: frames arrive over the WebSocket; every control is generated from the registry.
// The readout (fps, dropped frames, Link) and the scene names are polled from /status.json.
"use strict";

const SCENE = "/backrooms/scene/";
const STATUS_MS = 500;
let beatClock = null;  // the last Link reading: the beat dots run on from it between polls

const controls = {};
let socket = null;
let frameUrl = null;

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function format(param, value) {
  if (param.type === "float") return Number(value).toPrecision(3);
  return String(value);
}

function makeControl(param) {
  const label = document.createElement("label");
  label.title = `${param.description}\n${param.addresses.join("\n")}`;
  const name = document.createElement("span");
  name.textContent = param.name;
  const shown = document.createElement("span");
  shown.className = "value";
  let input;
  if (param.kind === "trigger") {
    input = document.createElement("button");
    input.textContent = "next";
    input.addEventListener("click", () => send({ bang: param.key }));
  } else if (param.choices.length) {
    input = document.createElement("select");
    for (const choice of param.choices) input.add(new Option(choice, choice));
    input.addEventListener("change", () => send({ set: { [param.key]: input.value } }));
  } else if (param.type === "str") {
    input = document.createElement("input");
    input.type = "text";
    input.addEventListener("change", () => send({ set: { [param.key]: input.value } }));
  } else if (param.type === "bool") {
    input = document.createElement("input");
    input.type = "checkbox";
    input.addEventListener("change", () => send({ set: { [param.key]: input.checked } }));
  } else {
    input = document.createElement("input");
    const bounded = param.min !== null && param.max !== null;
    input.type = bounded ? "range" : "number";
    if (bounded) {
      input.min = param.min;
      input.max = param.max;
      input.step = param.type === "int" ? 1 : (param.max - param.min) / 1000;
    }
    input.addEventListener("input", () => {
      send({ set: { [param.key]: Number(input.value) } });
      shown.textContent = format(param, input.value);
    });
  }
  input.dataset.key = param.key;
  const learn = document.createElement("button");
  learn.className = "learn";
  learn.textContent = "L";
  learn.title = "MIDI learn: move a controller knob next";
  learn.addEventListener("click", () => send({ learn: param.key }));
  label.append(name, input, shown, learn);
  controls[param.key] = { param, input, shown };
  return label;
}

function showValue(key, value) {
  const control = controls[key];
  if (!control) return;
  const { param, input, shown } = control;
  shown.textContent = param.kind === "trigger" ? String(value) : format(param, value);
  if (document.activeElement === input && input.type === "range") return;  // the user is dragging it
  if (input.type === "checkbox") input.checked = Boolean(value);
  else if (input.tagName !== "BUTTON") input.value = value;
}

function showFrame(buffer) {
  const frame = new DataView(buffer).getUint32(0);
  const url = URL.createObjectURL(new Blob([buffer.slice(4)], { type: "image/jpeg" }));
  const view = document.getElementById("view");
  view.onload = () => {
    if (frameUrl) URL.revokeObjectURL(frameUrl);
    frameUrl = url;
    document.body.dataset.frame = frame;
  };
  view.src = url;
  document.getElementById("status").textContent = `frame ${frame}`;
}

function connect() {
  socket = new WebSocket(`ws://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      const values = JSON.parse(event.data).values || {};
      for (const [key, value] of Object.entries(values)) showValue(key, value);
    } else {
      showFrame(event.data);
    }
  };
  socket.onclose = () => {
    document.getElementById("status").textContent = "disconnected — retrying";
    setTimeout(connect, 1000);
  };
}

function button(text, onClick) {
  const b = document.createElement("button");
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

function buildKnobs(table) {
  const byKey = Object.fromEntries(table.params.map((p) => [p.key, p]));
  const aside = document.getElementById("controls");
  for (const group of table.groups) {
    const heading = document.createElement("h2");
    heading.textContent = group.node;
    aside.append(heading);
    for (const key of group.played) aside.append(makeControl(byKey[key]));
    if (group.more.length) {
      const more = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = `more (${group.more.length})`;
      more.append(summary);
      for (const key of group.more) more.append(makeControl(byKey[key]));
      aside.append(more);
    }
    document.getElementById("scene-node").add(new Option(group.node, group.node));
  }
}

function buildEvents(table) {
  const bar = document.getElementById("events");
  if (!table.events.length) bar.hidden = true;
  for (const key of table.events) {
    const b = button(key.split("/").pop().replaceAll("_", " "), () => send({ bang: key }));
    b.dataset.event = key;
    bar.append(b);
  }
}

function buildScenes(table) {
  if (!table.commands.includes(`${SCENE}save`)) {
    document.getElementById("scenes").hidden = true;
    return;
  }
  const name = () => document.getElementById("scene-name").value.trim();
  const command = (verb, ...args) => send({ command: SCENE + verb, args });
  document.getElementById("scene-save").addEventListener("click", () => {
    const node = document.getElementById("scene-node").value;
    if (name()) node ? command("save", name(), node) : command("save", name());
  });
  document.getElementById("scene-recall").addEventListener("click", () => name() && command("recall", name()));
  document.getElementById("scene-morph").addEventListener("click", () => {
    const amount = Number(document.getElementById("morph-amount").value);
    if (name()) command("morph", name(), amount, document.getElementById("morph-unit").value);
  });
}

function showScenes(names) {
  const list = document.getElementById("scene-list");
  if (list.dataset.names === names.join("\n")) return;
  list.dataset.names = names.join("\n");
  list.replaceChildren(
    ...names.map((n) => {
      const b = button(n, () => send({ command: `${SCENE}recall`, args: [n] }));
      b.title = "recall";
      b.dataset.scene = n;
      return b;
    }),
  );
}

function showStatus(status) {
  if (status.fps !== undefined) {
    document.getElementById("fps").textContent = status.fps.toFixed(1);
    document.getElementById("fps").classList.toggle("bad", status.fps < 0.9 * status.target_fps);
    document.getElementById("target").textContent = status.target_fps;
    document.getElementById("dropped").textContent = status.dropped;
    document.getElementById("frame").textContent = status.frame;
    document.getElementById("quality").textContent = status.quality;
    const trail = Math.round((1000 * status.latency) / status.target_fps);
    document.getElementById("latency").textContent = `${status.latency} (${trail} ms)`;
    document.body.dataset.fps = status.fps;
    document.body.dataset.dropped = status.dropped;
  }
  if (status.nodes) {
    const costs = Object.entries(status.nodes).map(([kind, ms]) => `${kind} ${Math.round(ms)}`);
    document.getElementById("nodes").textContent = `${costs.join(" · ")} ms`;
  }
  const link = document.getElementById("link");
  link.hidden = !status.link;
  if (status.link) {
    document.getElementById("tempo").textContent = status.link.tempo.toFixed(1);
    document.getElementById("peers").textContent = `${status.link.peers} peers`;
    const start = beatClock === null;
    beatClock = { ...status.link, at: performance.now() };
    if (start) requestAnimationFrame(showBeat);
  } else {
    beatClock = null;
  }
  if (status.scenes) showScenes(status.scenes);
}

function showBeat(now) {
  if (beatClock === null) return;
  const { phase, tempo, quantum, at } = beatClock;
  const beat = Math.floor((phase + ((now - at) / 60000) * tempo) % quantum);
  const dots = document.getElementById("beat");
  while (dots.children.length < quantum) dots.append(document.createElement("span"));
  [...dots.children].forEach((dot, i) => dot.classList.toggle("on", i === beat));
  document.body.dataset.beat = beat;
  requestAnimationFrame(showBeat);
}

async function poll() {
  try {
    showStatus(await (await fetch("/status.json")).json());
  } catch (error) {
    document.getElementById("fps").textContent = "–";
  }
  setTimeout(poll, STATUS_MS);
}

async function main() {
  const table = await (await fetch("/params.json")).json();
  buildKnobs(table);
  buildEvents(table);
  buildScenes(table);
  for (const [key, value] of Object.entries(table.values)) showValue(key, value);
  document.body.dataset.ready = "1";
  connect();
  poll();
}

main();
