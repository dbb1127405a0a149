// Serves the Taplo language server of @taplo/lsp (Even Better TOML's engine) over stdio, framed as
// LSP messages (Content-Length), for tests/test_taplo_lsp.py. Install it with `npm ci` in tests/.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { fileURLToPath } = require("node:url");
const { TaploLsp } = require("@taplo/lsp");

// Offline by construction: the server reads local schemas only, never a catalog.
globalThis.fetch = (url) => Promise.reject(new Error(`network access refused: ${url}`));

function findConfigFile(from) {
  for (const name of [".taplo.toml", "taplo.toml"]) {
    const candidate = path.join(from, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

const environment = {
  now: () => new Date(),
  envVar: (name) => process.env[name],
  envVars: () => Object.entries(process.env),
  stdErrAtty: () => false,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  glob: () => [],
  readFile: (file) => fs.promises.readFile(file),
  writeFile: (file, bytes) => fs.promises.writeFile(file, bytes),
  urlToFilePath: (url) => (url.startsWith("file:") ? fileURLToPath(url) : url),
  isAbsolute: (file) => path.isAbsolute(file),
  cwd: () => process.cwd(),
  findConfigFile,
};

function send(message) {
  const body = Buffer.from(JSON.stringify(message), "utf8");
  process.stdout.write(`Content-Length: ${body.length}\r\n\r\n`);
  process.stdout.write(body);
}

async function serve() {
  const lsp = await TaploLsp.initialize(environment, { onMessage: send });
  let buffered = Buffer.alloc(0);
  process.stdin.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) return;
      const match = /Content-Length: *(\d+)/i.exec(buffered.subarray(0, end).toString("ascii"));
      if (!match) throw new Error("an LSP message without Content-Length");
      const length = Number(match[1]);
      if (buffered.length < end + 4 + length) return;
      const message = JSON.parse(buffered.subarray(end + 4, end + 4 + length).toString("utf8"));
      buffered = buffered.subarray(end + 4 + length);
      if (message.method === "exit") process.exit(0);
      lsp.send(message);
    }
  });
  process.stdin.on("end", () => process.exit(0));
}

serve().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
