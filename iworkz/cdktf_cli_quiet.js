// Preloaded into every node process npm or npx starts in this project (.npmrc node-options), so
// that `npx cdktf ...` outside make sends no telemetry: without network access its checkpoint
// call fails with "getaddrinfo ENOTFOUND checkpoint-api.hashicorp.com". The CLI reads both
// variables when it loads, after this file has run.
process.env.CHECKPOINT_DISABLE ??= "1";
process.env.CDKTF_DISABLE_TELEMETRY ??= "true";
