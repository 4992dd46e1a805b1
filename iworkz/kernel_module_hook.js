"use strict";
// Shared by the scripts preloaded into the jsii kernel's node (iworkz/jsii_node.py): runs a patch on
// a module's exports right after the module loads, before any caller can use it.
const Module = require("module");

const patches = [];
const loadJavaScript = Module._extensions[".js"];
Module._extensions[".js"] = function loadAndPatch(module, filename) {
  const loaded = loadJavaScript(module, filename);
  for (const [pattern, patch] of patches) {
    if (pattern.test(filename)) {
      patch(module.exports);
    }
  }
  return loaded;
};

// patch(exports) runs once for each loaded module whose file name matches pattern.
exports.afterLoad = (pattern, patch) => patches.push([pattern, patch]);
