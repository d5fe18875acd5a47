// Tokenize text with the extension's TextMate grammar through vscode-textmate and vscode-oniguruma,
// the engine VS Code itself runs, so a test sees the scopes an editor shows.
//
// stdin:  {"texts": ["...", ...]}
// stdout: one entry per text, one per line, one {start, end, scopes} per token:
//         [[[{"start": 0, "end": 4, "scopes": ["source.arch", "storage.type.arch.arch"]}, ...], ...], ...]
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const ROOT = path.resolve(__dirname, "..");

function contributedGrammar() {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const [grammar] = manifest.contributes.grammars;
  return { scopeName: grammar.scopeName, file: path.join(ROOT, grammar.path) };
}

async function loadOniguruma() {
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  return {
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (text) => new oniguruma.OnigString(text),
  };
}

function tokenizeText(grammar, text) {
  let state = vsctm.INITIAL;
  return text.split(/\r?\n/).map((line) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    return result.tokens.map((t) => ({ start: t.startIndex, end: t.endIndex, scopes: t.scopes }));
  });
}

async function main() {
  const { scopeName, file } = contributedGrammar();
  const registry = new vsctm.Registry({
    onigLib: loadOniguruma(),
    loadGrammar: async (scope) =>
      scope === scopeName ? vsctm.parseRawGrammar(fs.readFileSync(file, "utf8"), file) : null,
  });
  const grammar = await registry.loadGrammar(scopeName);
  if (grammar === null) {
    throw new Error(`no grammar for ${scopeName} in ${file}`);
  }
  const { texts } = JSON.parse(fs.readFileSync(0, "utf8"));
  process.stdout.write(JSON.stringify(texts.map((text) => tokenizeText(grammar, text))));
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
