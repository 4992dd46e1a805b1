"use strict";
// The jsii kernel in the node that jsii's Python runtime starts (iworkz/jsii_node.py), instead of
// jsii's own launcher, which starts a second node for the kernel and relays every request and
// response between the two (two more process hops per round trip; a synth makes ~2,500 round
// trips per environment: ~0.7 s of a one-environment synth here).
//
// jsii's kernel (lib/program.js, extracted beside this file) talks on file descriptor 3, which the
// launcher opens as a socket to itself. Here it reads requests from stdin (fd 0) and writes
// responses to fd 4, which iworkz/jsii_kernel_node.sh points at the pipe jsii reads (stdout) before
// pointing stdout at stderr. What JavaScript prints reaches jsii as the launcher sends it: a JSON
// line on stderr, {"stdout": base64} or {"stderr": base64}, which jsii prints on the Python side.
const fs = require("fs");

const API_FD = 3;
const REQUESTS_FD = 0;
const RESPONSES_FD = 4;
const CONSOLE_FD = 2;

const readSync = fs.readSync;
const writeSync = fs.writeSync;
fs.readSync = function readRequests(fd, ...rest) {
  return readSync.call(this, fd === API_FD ? REQUESTS_FD : fd, ...rest);
};
fs.writeSync = function writeResponses(fd, ...rest) {
  return writeSync.call(this, fd === API_FD ? RESPONSES_FD : fd, ...rest);
};

function relay(stream, key) {
  stream.write = function relayed(chunk, encoding, callback) {
    const text = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), typeof encoding === "string" ? encoding : "utf8");
    writeSync(CONSOLE_FD, `${JSON.stringify({ [key]: text.toString("base64") })}\n`);
    const done = typeof encoding === "function" ? encoding : callback;
    if (typeof done === "function") {
      process.nextTick(done);
    }
    return true;
  };
}
relay(process.stdout, "stdout");
relay(process.stderr, "stderr");

require("../lib/program.js");
