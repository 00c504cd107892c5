// The OTLP/JSON that `specwright export RUN --format otlp` writes, and the bodies the live
// export POSTs to a collector (here a node HTTP server on 127.0.0.1, port 0, found through
// OTEL_EXPORTER_OTLP_ENDPOINT), decoded with the OTLP protobuf types OpenTelemetry generates
// and publishes (@opentelemetry/otlp-transformer 0.57's protobufjs code for
// opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest): converted by the OTLP
// JSON mapping (hex ids to bytes, 64-bit integers from strings, enums as numbers), verified,
// encoded to the binary wire format, decoded, and compared field by field with the JSON — a
// field the schema does not know is lost on the way and fails the comparison. Every attribute
// name is one the GenAI semantic conventions (v1.41) define, or ours (specwright.*), or the one
// cost name backends read (gen_ai.usage.cost).
// No real collector receives these exports, and that is why this test decodes with the
// generated types instead: Debian bookworm offers only golang-opentelemetry-otel-dev (the Go
// SDK, no collector); npm has no OpenTelemetry Collector or Jaeger binary (the names otelcol,
// opentelemetry-collector, @opentelemetry/collector and jaeger-all-in-one do not exist, and the
// package `jaeger` is unrelated); building otelcol-contrib from its Go source would work, but Go
// is not in the baseline. What a collector would check first — that the bytes parse as an
// ExportTraceServiceRequest with nothing lost — is what this test checks.
// Run: SW_BINARY=build/specwright node tests/mcp/otlp_export.test.mjs (ctest: otlp_protobuf).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const BIN = process.env.SW_BINARY;
assert.ok(BIN, 'set SW_BINARY to the specwright binary');
const dir = mkdtempSync(join(tmpdir(), 'sw-otlp-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(join(dir, 'flow.yaml'), `name: otlp-flow
defaults: {model: scripted/demo, max_tokens: 200, temperature: 0.25, retry: {attempts: 2, backoff: 10ms}}
nodes:
  plan: {prompt: "Plan the tides"}
  draft: {needs: [plan], prompt: "Draft from {{nodes.plan.output}}"}
  facts: {needs: [plan], prompt: "Facts for {{nodes.plan.output}}"}
`);
writeFileSync(join(dir, 'script.yaml'), `prices:
  scripted/demo: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
nodes:
  plan: [{text: "1. moon", id: chatcmpl-plan, model: demo-2026-01, latency_ms: 30}]
  draft:
    - {error: {message: "slow down", retryable: true, status: 429}}
    - {text: "The moon pulls the water.", id: chatcmpl-draft}
  facts:
    - {error: {message: "overloaded", retryable: true, status: 503}}
`);

// The names the GenAI semantic conventions v1.41 define (model/gen-ai/registry.yaml), and the
// general ones an export uses.
const SEMCONV = new Set(`gen_ai.provider.name gen_ai.request.model gen_ai.request.max_tokens gen_ai.request.choice.count
gen_ai.request.temperature gen_ai.request.top_p gen_ai.request.top_k gen_ai.request.stop_sequences
gen_ai.request.frequency_penalty gen_ai.request.presence_penalty gen_ai.request.encoding_formats gen_ai.request.seed
gen_ai.request.stream gen_ai.response.id gen_ai.response.model gen_ai.response.finish_reasons
gen_ai.response.time_to_first_chunk gen_ai.usage.input_tokens gen_ai.usage.cache_read.input_tokens
gen_ai.usage.cache_creation.input_tokens gen_ai.usage.output_tokens gen_ai.usage.reasoning.output_tokens gen_ai.token.type
gen_ai.conversation.id gen_ai.agent.id gen_ai.agent.name gen_ai.agent.description gen_ai.agent.version gen_ai.tool.name
gen_ai.tool.call.id gen_ai.tool.description gen_ai.tool.type gen_ai.tool.call.arguments gen_ai.tool.call.result
gen_ai.tool.definitions gen_ai.data_source.id gen_ai.operation.name gen_ai.output.type gen_ai.system_instructions
gen_ai.input.messages gen_ai.output.messages gen_ai.prompt.name gen_ai.workflow.name
error.type exception.type exception.message service.name service.version telemetry.sdk.name telemetry.sdk.language
telemetry.sdk.version`.split(/\s+/));
const OPERATIONS = new Set(['chat', 'invoke_agent', 'invoke_workflow', 'execute_tool']);
function known(key) {
  return SEMCONV.has(key) || key.startsWith('specwright.') || key === 'gen_ai.usage.cost';
}

function sw(args, env = {}) {
  const r = spawnSync(BIN, [...args, '--store', join(dir, 'store')], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// ---- OTLP/JSON <-> protobuf, by the OTLP JSON mapping rules ----

const BYTES = new Set(['traceId', 'spanId', 'parentSpanId']);
const hexToBytes = (h) => {
  assert.match(h, /^([0-9a-f]{2})*$/, `an id is lowercase hex: ${h}`);
  return Buffer.from(h, 'hex');
};
/** ToProtoShape turns the JSON's hex ids into bytes (protobufjs reads bytes strings as base64). */
function toProtoShape(v, key) {
  if (Array.isArray(v)) return v.map((x) => toProtoShape(x));
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = toProtoShape(x, k);
    return o;
  }
  if (BYTES.has(key) && typeof v === 'string') return hexToBytes(v);
  return v;
}
/** FromProto is the decoded message back as OTLP/JSON: ids hex, 64-bit integers as strings. */
function fromProto(msg) {
  const o = Request.toObject(msg, { longs: String, enums: Number, bytes: Array, defaults: false, arrays: false, oneofs: false });
  const fix = (v, key) => {
    if (Array.isArray(v)) return BYTES.has(key) ? Buffer.from(v).toString('hex') : v.map((x) => fix(x));
    if (v && typeof v === 'object') {
      const r = {};
      for (const [k, x] of Object.entries(v)) r[k] = fix(x, k);
      return r;
    }
    return v;
  };
  return fix(o);
}
/** Normalize drops what proto3 does not carry: scalar fields at their default, empty lists
 * (a oneof member keeps its zero: intValue "0" and stringValue "" are values). */
const ONEOF = new Set(['stringValue', 'intValue', 'doubleValue', 'boolValue', 'bytesValue', 'arrayValue', 'kvlistValue']);
function normalize(v) {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) {
      if (!ONEOF.has(k) && (x === '' || x === 0 || x === '0' || x === false || (Array.isArray(x) && x.length === 0))) continue;
      o[k] = normalize(x);
    }
    return o;
  }
  return v;
}

/** RoundTrip checks one OTLP/JSON body against the schema and returns its spans. */
function roundTrip(body, what) {
  const shaped = toProtoShape(body);
  const msg = Request.fromObject(shaped);
  const problem = Request.verify(msg);
  assert.equal(problem, null, `${what}: the schema refuses it: ${problem}`);
  const wire = Request.encode(msg).finish();
  assert.ok(wire.length > 100, `${what}: encoded to ${wire.length} bytes`);
  const back = fromProto(Request.decode(wire));
  // Lossless: whatever the JSON says survives the binary form; a field the schema does not
  // know is dropped by fromObject and fails here, by name.
  assert.deepStrictEqual(normalize(back), normalize(body), `${what}: the protobuf round trip changed the export`);
  const spans = body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  for (const rs of body.resourceSpans) {
    for (const a of rs.resource.attributes) assert.ok(known(a.key) || a.key.startsWith('deployment.'), `${what}: resource attribute ${a.key}`);
    for (const ss of rs.scopeSpans) assert.equal(ss.schemaUrl, 'https://opentelemetry.io/schemas/1.41.0');
  }
  for (const s of spans) {
    for (const a of s.attributes) assert.ok(known(a.key), `${what}: span "${s.name}" has ${a.key}, which no convention names`);
    for (const e of s.events ?? []) for (const a of e.attributes) assert.ok(known(a.key), `${what}: event ${e.name} has ${a.key}`);
    const op = attrs(s)['gen_ai.operation.name'];
    if (op) assert.ok(OPERATIONS.has(op), `${what}: operation ${op}`);
  }
  return { spans, resource: body.resourceSpans[0].resource };
}

function value(v) {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(value);
  return v;
}
function attrs(s) {
  return Object.fromEntries((s.attributes ?? []).map((a) => [a.key, value(a.value)]));
}

// ---- the tests ----

test('export --format otlp decodes losslessly with the official OTLP protobuf types', () => {
  const r = sw(['run', 'flow.yaml', '--script', 'script.yaml', '--run-id', 'otlp1']);
  assert.equal(r.code, 1, `facts fails after its retry: ${r.err}${r.out}`);
  for (const extra of [[], ['--include-content']]) {
    const e = sw(['export', 'otlp1', '--format', 'otlp', ...extra],
      { OTEL_SERVICE_NAME: 'tides', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,service.name=ignored' });
    assert.equal(e.code, 0, e.err);
    const { spans, resource } = roundTrip(JSON.parse(e.out), `export ${extra.join(' ')}`);
    const res = attrs(resource);
    assert.equal(res['service.name'], 'tides', 'OTEL_SERVICE_NAME wins over the one in OTEL_RESOURCE_ATTRIBUTES');
    assert.equal(res['deployment.environment.name'], 'test');
    const run = spans.find((s) => s.name === 'invoke_workflow otlp-flow');
    assert.ok(run, 'the workflow span');
    assert.equal(attrs(run)['gen_ai.workflow.name'], 'otlp-flow');
    assert.equal(attrs(run)['gen_ai.agent.name'], undefined, 'a workflow is not an agent');
    assert.equal(attrs(run)['error.type'], '503', 'the run failed as facts did');
    const chats = spans.filter((s) => attrs(s)['gen_ai.operation.name'] === 'chat');
    assert.equal(chats.length, 5, 'plan, draft twice, facts twice');
    const plan = attrs(chats.find((s) => attrs(s)['specwright.node.id'] === 'plan'));
    assert.equal(plan['gen_ai.response.id'], 'chatcmpl-plan');
    assert.equal(plan['gen_ai.response.model'], 'demo-2026-01');
    assert.deepEqual(plan['gen_ai.response.finish_reasons'], ['stop']);
    assert.equal(plan['gen_ai.request.max_tokens'], 200);
    assert.equal(plan['gen_ai.request.temperature'], 0.25);
    assert.equal(plan['gen_ai.conversation.id'], 'otlp1');
    assert.ok(plan['gen_ai.response.time_to_first_chunk'] >= 0.03, 'seconds to the first chunk');
    assert.ok(plan['gen_ai.usage.cost'] > 0);
    const failed = chats.filter((s) => s.status?.code === 2).map(attrs).map((a) => a['error.type']).sort();
    assert.deepEqual(failed, ['429', '503', '503']);
    const retried = spans.find((s) => s.name === 'node draft' && attrs(s)['specwright.attempt'] === 2);
    assert.equal(attrs(retried)['specwright.retries'], 1);
    assert.equal(retried.events[0].name, 'specwright.retry');
    assert.equal(retried.links.length, 1);
  }
});

test('the live export POSTs to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces, and each body decodes', async () => {
  const posts = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      posts.push({ path: req.url, type: req.headers['content-type'], auth: req.headers['authorization'], body });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  try {
    const child = spawn(BIN, ['run', 'flow.yaml', '--script', 'script.yaml', '--run-id', 'live1', '--store', join(dir, 'store')], {
      cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20s3cret-token', OTEL_SERVICE_NAME: 'live-tides' },
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((ok) => child.on('close', ok));
    assert.equal(code, 1, err);
    assert.match(err, new RegExp(`exported \\d+ spans to http://127.0.0.1:${port}/v1/traces`));
    assert.ok(!err.includes('s3cret'), 'the header value is never printed');
  } finally {
    server.close();
  }
  assert.ok(posts.length >= 1);
  const ids = new Set();
  for (const [i, p] of posts.entries()) {
    assert.equal(p.path, '/v1/traces');
    assert.equal(p.type, 'application/json');
    assert.equal(p.auth, 'Bearer s3cret-token', 'OTEL_EXPORTER_OTLP_HEADERS, percent-decoded');
    const { spans, resource } = roundTrip(JSON.parse(p.body), `POST ${i + 1}`);
    assert.equal(attrs(resource)['service.name'], 'live-tides');
    for (const s of spans) {
      assert.ok(!ids.has(s.spanId), 'each span is sent once');
      ids.add(s.spanId);
    }
  }
  const whole = JSON.parse(sw(['export', 'live1', '--format', 'otlp']).out);
  assert.equal(ids.size, whole.resourceSpans[0].scopeSpans[0].spans.length, 'every span went out');
});

test('a field the schema does not know fails the round trip', () => {
  const e = sw(['export', 'otlp1', '--format', 'otlp']);
  const body = JSON.parse(e.out);
  body.resourceSpans[0].scopeSpans[0].spans[0].notAnOtlpField = 'x';
  assert.throws(() => roundTrip(body, 'planted'), /round trip changed the export/);
});
