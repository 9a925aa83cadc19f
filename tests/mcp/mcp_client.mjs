// The MCP server (`firstwall mcp`) against the official MCP TypeScript client
// (@modelcontextprotocol/sdk, pinned in web/package.json): over stdio (the client spawns the
// server) and over Streamable HTTP (the server on a free loopback port). Lists the tools, runs a
// what-if, proposes plans whose predicted effects the twin checks, and is refused a tool that
// does not exist (approve_plan). Run by mcp_client_test.sh; exits non-zero on the first failure.
// Usage: node mcp_client.mjs FIRSTWALL_BIN STORE AGENT_PASSWORD
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.resolve("web/package.json"));
const sdk = (p) => import(require.resolve(`@modelcontextprotocol/sdk/${p}`));
const { Client } = await sdk("client/index.js");
const { StdioClientTransport } = await sdk("client/stdio.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { McpError, ErrorCode } = await sdk("types.js");

const [bin, store, password] = process.argv.slice(2);
const scenario = "tests/inputs/live-emulate.yaml";
const serverArgs = ["mcp", scenario, "--store", store, "--user", "agent"];
const env = { ...process.env, FIRSTWALL_PASSWORD: password };
const expectedTools = ["describe_scenario", "run_what_if", "read_telemetry", "data_quality",
                       "list_plans", "list_anomalies", "propose_plan"];

async function refusedWith(promise, code, words) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof McpError, `expected an McpError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(words), `"${e.message}" lacks "${words}"`);
    return;
  }
  assert.fail(`expected error ${code}`);
}

// What both transports must answer alike. `effectScale`: the claimed effect as a multiple of the
// twin's own (1: agree; 3: disagree).
async function exercise(client, label, effectScale, expectStatus) {
  assert.equal(client.getServerVersion().name, "firstwall");
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name), expectedTools);
  for (const t of tools) assert.equal(t.inputSchema.type, "object", t.name);

  const run = await client.callTool({
    name: "run_what_if", arguments: { overrides: { "cluster.gpu_power_cap": "400 W" } } });
  assert.equal(run.isError, false, JSON.stringify(run));
  const w = run.structuredContent;
  const dKw = w.difference.mean_facility_power_kw;
  assert.ok(dKw < -0.5, `a 400 W cap on 16 H100s should lower facility power, got ${dKw} kW`);
  assert.ok(Math.abs(w.figures.mean_facility_power_kw - w.baseline.mean_facility_power_kw - dKw) < 1e-6);
  assert.ok(w.figures.pue > 1 && w.figures.pue < 2, `PUE ${w.figures.pue}`);
  assert.ok(w.difference.jobs[0].step_time_s > 0, "a capped GPU runs a slower step");
  assert.equal(JSON.parse(run.content[0].text).difference.mean_facility_power_kw, dKw);

  const claimed = dKw * effectScale;
  const prop = await client.callTool({
    name: "propose_plan",
    arguments: { class: "power_cap", target: "facility/site", value: "400 W",
                 reason: `price peak (${label})`, effect: `${claimed} kW`, uncertainty: "0.1 kW" } });
  assert.equal(prop.isError, false, JSON.stringify(prop));
  const p = prop.structuredContent;
  assert.equal(p.check.status, expectStatus, JSON.stringify(p.check));
  assert.ok(Math.abs(p.check.twin_value - dKw) < 1e-6, JSON.stringify(p.check));
  assert.equal(p.plan.state, "proposed");
  assert.equal(p.plan.proposer, "agent");
  assert.ok(p.plan.reason.includes(`[twin check: ${expectStatus}`), p.plan.reason);

  const plans = (await client.callTool({ name: "list_plans", arguments: { state: "proposed" } }))
    .structuredContent.plans;
  assert.ok(plans.some((q) => q.id === p.plan.id));
  const anomalies = (await client.callTool({ name: "list_anomalies", arguments: {} })).structuredContent;
  assert.deepEqual(anomalies.anomalies, []);

  // No tool approves: the protocol's invalid-params error, not a result.
  await refusedWith(client.callTool({ name: "approve_plan", arguments: { plan: p.plan.id } }),
                    ErrorCode.InvalidParams, "unknown tool");
  await refusedWith(client.callTool({ name: "run_what_if", arguments: {} }),
                    ErrorCode.InvalidParams, "arguments.overrides is required");
  // A bad key is the tool's error, which the agent reads.
  const bad = await client.callTool({
    name: "run_what_if", arguments: { overrides: { "cluster.gpu_power_cup": "400 W" } } });
  assert.equal(bad.isError, true);
  assert.ok(bad.content[0].text.includes("gpu_power_cup"), bad.content[0].text);
  await client.ping();
  console.log(`${label}: ${tools.length} tools; what-if 400 W cap: facility ${dKw.toFixed(3)} kW; ` +
              `claim ${claimed.toFixed(3)} kW -> ${p.check.status}; plan ${p.plan.id} proposed`);
}

// stdio: the client spawns the server.
{
  const client = new Client({ name: "firstwall-test", version: "1.0.0" });
  const transport = new StdioClientTransport({ command: bin, args: serverArgs, env, stderr: "inherit" });
  await client.connect(transport);
  await exercise(client, "stdio", 1, "agree");
  await client.close();
}

// Streamable HTTP: the server on a free loopback port, printed on its standard error.
{
  const server = spawn(bin, [...serverArgs, "--http", "127.0.0.1:0"], { env, stdio: ["ignore", "inherit", "pipe"] });
  const url = await new Promise((resolve, reject) => {
    let seen = "";
    server.stderr.on("data", (chunk) => {
      process.stderr.write(chunk);
      seen += chunk;
      const m = seen.match(/serving (http:\/\/\S+\/mcp)/);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error(`firstwall mcp --http exited with ${code}`)));
  });
  try {
    const client = new Client({ name: "firstwall-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    await exercise(client, "http", 3, "disagree");
    await client.close();

    // The transport's own answers, by hand.
    const post = (body, headers = {}) => fetch(url, { method: "POST", body,
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...headers } });
    let r = await post("{not json");
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error.code, -32700);
    r = await post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
    assert.equal(r.status, 202);
    r = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }), { Origin: "http://evil.example" });
    assert.equal(r.status, 403);
    r = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }), { "MCP-Protocol-Version": "1999-01-01" });
    assert.equal(r.status, 400);
    r = await fetch(url, { headers: { Accept: "text/event-stream" } });
    assert.equal(r.status, 405);
    console.log("http: parse error 400, notification 202, foreign origin 403, bad version 400, GET 405");
  } finally {
    server.kill("SIGTERM");
  }
}
console.log("mcp_client: all checks passed");
