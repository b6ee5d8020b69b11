// Runs an actions/github-script `script:` as that action does (an async function of `github`,
// `context`, `core`, ...), with a real Octokit (npm `@octokit/rest`, the generation github-script
// v8 bundles) pointed at a GitHub REST API on loopback.
// Usage: node github_script.cjs OCTOKIT_DIR SCRIPT_FILE BASE_URL OWNER/REPO
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [octokitDir, scriptFile, baseUrl, repository] = process.argv.slice(2);
const { Octokit } = require(path.resolve(octokitDir));
const [owner, repo] = repository.split("/");

const github = new Octokit({ auth: "fake-token", baseUrl, request: { retries: 0 } });
const context = { repo: { owner, repo }, eventName: "schedule", ref: "refs/heads/main" };
const core = {
  info: (text) => process.stdout.write(`${text}\n`),
  warning: (text) => process.stdout.write(`::warning::${text}\n`),
  setFailed: (text) => {
    process.stdout.write(`::error::${text}\n`);
    process.exitCode = 1;
  },
};
const AsyncFunction = Object.getPrototypeOf(async () => null).constructor;
const script = fs.readFileSync(scriptFile, "utf8");

new AsyncFunction("require", "github", "octokit", "context", "core", script)(
  require,
  github,
  github,
  context,
  core,
).catch((error) => {
  process.stderr.write(`script failed: ${error}\n`);
  process.exit(1);
});
