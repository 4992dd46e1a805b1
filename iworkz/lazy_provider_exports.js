"use strict";
// Node side of iworkz/lazy_providers.py, preloaded into the jsii kernel's node (NODE_OPTIONS --require).
//
// Why: the jsii kernel loads a provider with require("@cdktf/provider-aws"), whose lib/index.js
// requires all 2,212 resource modules (azurerm: 1,527, kubernetes: 109): ~220 MB of JavaScript
// (with inline source maps) parsed and kept by V8 for the aws provider alone. That was ~1.2 GB
// of the ~1.5 GB the node process held in a full synth, and ~3 s of its wall time.
//
// How: each `exports.<name> = require("./<module>");` line of a provider's lib/index.js becomes
// a getter that requires the module on first access. The kernel reaches a type by walking the
// package's exports along its fully qualified name (provider-aws.vpc.Vpc -> exports.vpc.Vpc), so
// exactly the modules the stacks use are loaded; the synthesised JSON is identical. A line of
// another shape is left as it is (loaded eagerly, as before).
const fs = require("fs");
const Module = require("module");

const PROVIDER_INDEX = /[\\/]@cdktf[\\/]provider-[a-z0-9-]+[\\/]lib[\\/]index\.js$/;
const EAGER_EXPORT = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[^"]+)"\);$/;

function lazyExport(line) {
  const match = EAGER_EXPORT.exec(line);
  if (!match) {
    return line;
  }
  const name = JSON.stringify(match[1]);
  const path = JSON.stringify(match[2]);
  return (
    `Object.defineProperty(exports, ${name}, { configurable: true, enumerable: true, get() {` +
    ` const value = require(${path});` +
    ` Object.defineProperty(exports, ${name}, { value, enumerable: true });` +
    ` return value; } });`
  );
}

const loadJavaScript = Module._extensions[".js"];
Module._extensions[".js"] = function loadProviderIndexLazily(module, filename) {
  if (!PROVIDER_INDEX.test(filename)) {
    return loadJavaScript(module, filename);
  }
  const source = fs.readFileSync(filename, "utf8");
  return module._compile(source.split("\n").map(lazyExport).join("\n"), filename);
};
