"use strict";
// Preloaded into the jsii kernel's node (NODE_OPTIONS --require, iworkz/jsii_node.py): cdktf's
// binary-version validations run their version command once per synth instead of once each.
//
// Why: cdktf adds a ValidateTerraformVersion (">=1.5") to every resource with an import block
// (import_from), to every stack with a moved block, and validates each by running
// `terraform version` through a shell (execSync). The pending migrations of three environments
// (iworkz/migrations.py) made that 84 processes, ~10 s of a full synth on this 2-core machine.
//
// How: when cdktf's lib/validations/validate-binary-version.js loads, its validate() is wrapped
// so that a validation with the same binary, command, constraint and hint returns the messages
// the first one computed (copies: the caller may extend them). The binary cannot change within
// one synth, so every validation still reports what it reported before; a missing or too-old
// terraform still fails the synth with the same message.
const { afterLoad } = require("./kernel_module_hook.js");

const VALIDATION_MODULE = /[\\/]cdktf[\\/]lib[\\/]validations[\\/]validate-binary-version\.js$/;

function validateOnce(ValidateBinaryVersion) {
  const validate = ValidateBinaryVersion.prototype.validate;
  const results = new Map();
  ValidateBinaryVersion.prototype.validate = function validateBinaryVersionOnce() {
    const key = JSON.stringify([this.binary, this.versionCommand, this.versionConstraint, this.hint]);
    if (!results.has(key)) {
      results.set(key, validate.call(this));
    }
    return [...results.get(key)];
  };
}

afterLoad(VALIDATION_MODULE, (exports) => {
  if (exports.ValidateBinaryVersion) {
    validateOnce(exports.ValidateBinaryVersion);
  }
});
