// Integration tests as a Node team writes them without a framework: the
// stack's URL from SLIPWAY_URL, fetch, and a JUnit report in jest-junit's
// shape. Usage: node check_app.mjs REPORT
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const url = process.env.SLIPWAY_URL;
const tests = {
  "GET /healthz answers 200": async () => {
    const res = await fetch(url + "/healthz");
    if (res.status !== 200) throw new Error(`GET /healthz: status ${res.status}`);
  },
  "GET /version reports the expected commit": async () => {
    const want = process.env.SLIPWAY_EXPECT_COMMIT ?? "";
    const { commit } = await (await fetch(url + "/version")).json();
    if (!commit.startsWith(want)) throw new Error(`GET /version reports commit ${commit}, want ${want}`);
  },
};

const esc = (s) => s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);
let failed = 0;
const cases = [];
for (const [name, test] of Object.entries(tests)) {
  try {
    await test();
    console.log(`ok   ${name}`);
    cases.push(`<testcase classname="app ${esc(name)}" name="app ${esc(name)}" time="0"></testcase>`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
    cases.push(`<testcase classname="app ${esc(name)}" name="app ${esc(name)}" time="0"><failure>${esc(String(e.stack))}</failure></testcase>`);
  }
}
const report = process.argv[2];
mkdirSync(dirname(report), { recursive: true });
writeFileSync(report, `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="jest tests"><testsuite name="app">${cases.join("")}</testsuite></testsuites>\n`);
process.exit(failed ? 1 : 0);
