// The live preview: frames arrive over the WebSocket; every control is generated from the registry.
"use strict";

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

async function main() {
  const table = await (await fetch("/params.json")).json();
  const aside = document.getElementById("controls");
  let node = null;
  for (const param of table.params) {
    if (param.node !== node) {
      node = param.node;
      const heading = document.createElement("h2");
      heading.textContent = node;
      aside.append(heading);
    }
    aside.append(makeControl(param));
  }
  for (const [key, value] of Object.entries(table.values)) showValue(key, value);
  document.body.dataset.ready = "1";
  connect();
}

main();
