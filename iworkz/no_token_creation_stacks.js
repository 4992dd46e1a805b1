"use strict";
// Preloaded into the jsii kernel's node (NODE_OPTIONS --require, iworkz/jsii_node.py): cdktf's tokens
// are created without recording a JavaScript stack trace.
//
// Why: every token (each attribute reference such as a bucket's arn, each Fn call, each lazy value)
// records its creation stack with no depth limit, which cdktf prints only when the token fails to
// resolve. Created from Python through jsii, that stack holds the jsii kernel's frames, never the
// stack or construct that made the token; capturing and formatting it was ~0.2 s of node CPU per
// environment (profiled with node --cpu-prof).
//
// How: cdktf's tokens/private/stack-trace.js exports captureStackTrace, which its callers look up on
// the module at each call; it returns an empty stack, as cdktf's own does when V8 gives none. A
// resolution error still names the token, the value and the construct path.
const { afterLoad } = require("./kernel_module_hook.js");

const STACK_TRACE_MODULE = /[\\/]cdktf[\\/]lib[\\/]tokens[\\/]private[\\/]stack-trace\.js$/;

afterLoad(STACK_TRACE_MODULE, (exports) => {
  exports.captureStackTrace = function noCreationStack() {
    return [];
  };
});
