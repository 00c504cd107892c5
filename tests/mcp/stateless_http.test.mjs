// `specwright mcp` spoken to in the stateless protocol revision 2026-07-28 with raw requests:
// over Streamable HTTP with fetch (no initialize, no session: every POST carries its version in
// params._meta and mirrors it in the MCP-Protocol-Version, Mcp-Method and Mcp-Name headers) and
// over stdio (the dual-era probe: server/discover first, then initialize still works). The
// official SDK client (which speaks 2025-11-25 and older) keeps working on the same server.
// Run: SW_BINARY=build/specwright node tests/mcp/stateless_http.test.mjs (ctest: mcp_stateless_http).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { BIN, dir, put, children, startHttp } from './project.mjs';

const V = '2026-07-28';

const meta = (version = V) => ({
  'io.modelcontextprotocol/protocolVersion': version,
  'io.modelcontextprotocol/clientInfo': { name: 'stateless-test', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
});

let nextId = 1;
/** request builds a 2026-07-28 request and the headers a conforming client sends with it. */
function request(method, params = {}, version = V) {
  const body = { jsonrpc: '2.0', id: nextId++, method, params: { ...params, _meta: meta(version) } };
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': version,
    'mcp-method': method,
  };
  if (params.name !== undefined) headers['mcp-name'] = params.name;
  if (params.uri !== undefined) headers['mcp-name'] = params.uri;
  return { body, headers };
}

async function post(url, { body, headers }, change = {}) {
  const h = { ...headers, ...change };
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  const res = await fetch(url, { method: 'POST', headers: h, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

test('Streamable HTTP: 2026-07-28 requests are served without initialize or a session', async () => {
  const { url } = await startHttp();

  const d = await post(url, request('server/discover'));
  assert.equal(d.status, 200, JSON.stringify(d.json));
  assert.equal(d.headers.get('mcp-session-id'), null, 'no session is minted');
  assert.equal(d.json.result.resultType, 'complete');
  assert.deepEqual(d.json.result.supportedVersions, [V, '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']);
  assert.equal(d.json.result._meta['io.modelcontextprotocol/serverInfo'].name, 'specwright');
  assert.ok(d.json.result.capabilities.tools && d.json.result.capabilities.resources && d.json.result.capabilities.prompts);
  assert.ok(Number.isInteger(d.json.result.ttlMs) && ['public', 'private'].includes(d.json.result.cacheScope));

  const l = await post(url, request('tools/list'));
  assert.equal(l.status, 200, JSON.stringify(l.json));
  const names = l.json.result.tools.map((t) => t.name);
  for (const want of ['spec_check', 'spec_trace', 'spec_item', 'spec_search', 'runs_list', 'export_markdown'])
    assert.ok(names.includes(want), `${want} in ${names}`);
  assert.equal(l.json.result.resultType, 'complete');
  assert.ok(Number.isInteger(l.json.result.ttlMs) && l.json.result.cacheScope);

  const call = request('tools/call', { name: 'spec_trace', arguments: { id: 'REQ-01-001' } });
  const c = await post(url, call);
  assert.equal(c.status, 200, JSON.stringify(c.json));
  assert.equal(c.json.result.isError, false);
  assert.equal(c.json.result.resultType, 'complete');
  assert.match(c.json.result.content[0].text, /src\/signup\.js:1/);
  // An Mcp-Session-Id on a stateless request is ignored, not looked up.
  const ignored = await post(url, request('tools/call', { name: 'spec_trace', arguments: { id: 'US-03-001' } }), { 'mcp-session-id': 'nope' });
  assert.equal(ignored.status, 200, JSON.stringify(ignored.json));
  // A name outside the header-safe set travels base64-encoded.
  const b64 = await post(url, call, { 'mcp-name': `=?base64?${Buffer.from('spec_trace').toString('base64')}?=` });
  assert.equal(b64.status, 200, JSON.stringify(b64.json));

  const read = await post(url, request('resources/read', { uri: 'specwright://rules/testing' }));
  assert.equal(read.status, 200);
  assert.match(read.json.result.contents[0].text, /Write the test first/);
  const missing = await post(url, request('resources/read', { uri: 'specwright://rules/nope' }));
  assert.equal(missing.json.error.code, -32602, 'resource not found is invalid params in 2026-07-28');
  const prompt = await post(url, request('prompts/get', { name: 'testing', arguments: { task: 'add a test' } }));
  assert.equal(prompt.status, 200);
  assert.equal(prompt.json.result.messages[0].role, 'user');

  // A notification is accepted without an answer.
  const note = await post(url, { body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: meta() } }, headers: call.headers });
  assert.equal(note.status, 202);
});

test('Streamable HTTP: missing or mismatched headers are HeaderMismatch (-32020), 400', async () => {
  const { url } = await startHttp();
  const call = request('tools/call', { name: 'spec_trace', arguments: { id: 'REQ-01-001' } });
  const cases = [
    ['no Mcp-Method', { 'mcp-method': undefined }],
    ['Mcp-Method not the body method', { 'mcp-method': 'tools/list' }],
    ['no Mcp-Name on tools/call', { 'mcp-name': undefined }],
    ['Mcp-Name not the tool called', { 'mcp-name': 'spec_item' }],
    ['Mcp-Name base64 of another name', { 'mcp-name': `=?base64?${Buffer.from('spec_item').toString('base64')}?=` }],
    ['no MCP-Protocol-Version', { 'mcp-protocol-version': undefined }],
    ['MCP-Protocol-Version not the _meta version', { 'mcp-protocol-version': '2025-11-25' }],
  ];
  for (const [why, change] of cases) {
    const r = await post(url, call, change);
    assert.equal(r.status, 400, `${why}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error.code, -32020, `${why}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.id, call.body.id, why);
  }
  const read = request('resources/read', { uri: 'specwright://context' });
  const r = await post(url, read, { 'mcp-name': 'specwright://rules/testing' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, -32020);
  const listed = await post(url, request('tools/list'), { 'mcp-method': 'prompts/list' });
  assert.equal(listed.json.error.code, -32020);
});

test('Streamable HTTP: an unsupported version is -32022 with the supported list; malformed _meta is -32602', async () => {
  const { url } = await startHttp();
  const r = await post(url, request('tools/list', {}, '1900-01-01'));
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, -32022);
  assert.equal(r.json.error.data.requested, '1900-01-01');
  assert.ok(r.json.error.data.supported.includes(V) && r.json.error.data.supported.includes('2025-11-25'), JSON.stringify(r.json));

  const noCaps = request('tools/list');
  delete noCaps.body.params._meta['io.modelcontextprotocol/clientCapabilities'];
  const m = await post(url, noCaps);
  assert.equal(m.status, 400);
  assert.equal(m.json.error.code, -32602);

  const noMeta = request('tools/list');
  delete noMeta.body.params._meta;
  const n = await post(url, noMeta);
  assert.equal(n.status, 400, 'the header names 2026-07-28 but the body has no _meta');
  assert.equal(n.json.error.code, -32602);

  // Methods 2026-07-28 removed, or that we do not offer: 404 with method not found.
  for (const [method, params] of [['ping', {}], ['subscriptions/listen', { notifications: { toolsListChanged: true } }], ['completion/complete', {}]]) {
    const x = await post(url, request(method, params));
    assert.equal(x.status, 404, `${method}: ${JSON.stringify(x.json)}`);
    assert.equal(x.json.error.code, -32601, method);
  }
  // No GET stream in either era.
  assert.equal((await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-protocol-version': V } })).status, 405);
});

test('Streamable HTTP: the SDK client (2025-11-25, initialize and a session) works beside stateless requests', async () => {
  const { url } = await startHttp();
  const client = new Client({ name: 'specwright-sdk-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(url);
  await client.connect(transport);
  assert.ok(transport.sessionId, 'initialize still opens a session');
  const traced = await client.callTool({ name: 'spec_trace', arguments: { id: 'REQ-01-001' } });
  assert.ok(!traced.isError, JSON.stringify(traced));
  assert.equal(traced.resultType, undefined, 'no 2026-07-28 fields in a 2025-11-25 session');
  const stateless = await post(url, request('tools/list'));
  assert.equal(stateless.status, 200);
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name), stateless.json.result.tools.map((t) => t.name), 'the same tools in both eras');
  await client.ping();
  await client.close();
});

test('stdio: a dual-era client probes with server/discover, and initialize still works after it', async () => {
  const child = spawn(BIN, ['mcp', '--dir', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (l) => waiting.shift()?.(JSON.parse(l)));
  const ask = (msg) => new Promise((resolve) => { waiting.push(resolve); child.stdin.write(JSON.stringify(msg) + '\n'); });

  const d = await ask(request('server/discover').body);
  assert.equal(d.result.resultType, 'complete', JSON.stringify(d));
  assert.ok(d.result.supportedVersions.includes(V));
  const bad = await ask(request('server/discover', {}, '2099-01-01').body);
  assert.equal(bad.error.code, -32022);
  const c = await ask(request('tools/call', { name: 'spec_item', arguments: { id: 'US-03-001' } }).body);
  assert.equal(c.result.structuredContent.file, 'specs/stories.md', JSON.stringify(c));
  // A legacy client on the same process: initialize, then requests without _meta.
  const init = await ask({ jsonrpc: '2.0', id: 'i', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'old', version: '1' } } });
  assert.equal(init.result.protocolVersion, '2025-11-25');
  child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
  const listed = await ask({ jsonrpc: '2.0', id: 'l', method: 'tools/list' });
  assert.ok(listed.result.tools.length > 5);
  assert.equal(listed.result.resultType, undefined);
  child.stdin.end();
});
