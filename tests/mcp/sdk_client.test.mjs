// `specwright mcp` driven by the official MCP TypeScript SDK's client, over stdio and over
// Streamable HTTP, against a small spec project made in a temporary folder: list tools,
// resources and prompts, call spec_trace and spec_check, read a rule set, get a prompt, see
// errors as the SDK reports them, and see that the writing tools exist only with --allow-writes.
// Run: SW_BINARY=build/specwright node tests/mcp/sdk_client.test.mjs (ctest: mcp_sdk).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

import { BIN, dir, put, children, startHttp } from './project.mjs';

put('tests/signup.test.js', "// US-03-001\ntest('signs up', () => {});\n");

function newClient() {
  return new Client({ name: 'specwright-sdk-test', version: '1.0.0' });
}

async function stdioClient(extra = []) {
  const client = newClient();
  const transport = new StdioClientTransport({ command: BIN, args: ['mcp', '--dir', dir, ...extra], stderr: 'pipe' });
  await client.connect(transport);
  return client;
}

async function expectMcpError(promise, code, words) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof McpError, `an McpError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (words) assert.match(e.message, words);
    return true;
  });
}

async function exercise(client) {
  assert.equal(client.getServerVersion().name, 'specwright');
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  for (const want of ['spec_check', 'spec_trace', 'spec_impact', 'spec_matrix', 'spec_item', 'spec_search', 'runs_list',
    'run_status', 'run_debug', 'run_cost', 'sessions_list', 'export_markdown'])
    assert.ok(names.includes(want), `tool ${want} in ${names}`);
  assert.ok(!names.includes('run_start') && !names.includes('gate_approve'), 'no writing tool without --allow-writes');
  const trace = tools.find((t) => t.name === 'spec_trace');
  assert.equal(trace.inputSchema.required[0], 'id');
  assert.ok(trace.inputSchema.properties.id.description);

  const traced = await client.callTool({ name: 'spec_trace', arguments: { id: 'REQ-01-001' } });
  assert.ok(!traced.isError, JSON.stringify(traced));
  assert.match(traced.content[0].text, /src\/signup\.js:1/);
  assert.match(traced.content[0].text, /tests\/signup\.test\.js:1/);
  assert.deepEqual(traced.structuredContent.down.map((d) => d.id), ['US-03-001']);

  const checked = await client.callTool({ name: 'spec_check', arguments: {} });
  assert.ok(!checked.isError, JSON.stringify(checked));
  assert.equal(checked.structuredContent.errors, 0);
  assert.equal(checked.structuredContent.items, 2);

  // A bad argument is a tool execution error the model can read (protocol 2025-11-25)...
  const bad = await client.callTool({ name: 'spec_trace', arguments: {} });
  assert.equal(bad.isError, true);
  assert.match(bad.content[0].text, /"id" is required/);
  // ...an unknown tool a protocol error, invalid params.
  await expectMcpError(client.callTool({ name: 'no_such_tool', arguments: {} }), -32602, /unknown tool/);
  // A store that does not exist is said, not created.
  const runs = await client.callTool({ name: 'runs_list', arguments: {} });
  assert.equal(runs.isError, true);
  assert.match(runs.content[0].text, /no Specwright store/);

  const { resources } = await client.listResources();
  const uris = resources.map((r) => r.uri);
  for (const want of ['specwright://context', 'specwright://rules/testing', 'specwright://spec/requirements.md'])
    assert.ok(uris.includes(want), `${want} in ${uris}`);
  const rules = await client.readResource({ uri: 'specwright://rules/testing' });
  assert.equal(rules.contents[0].mimeType, 'text/markdown');
  assert.match(rules.contents[0].text, /Write the test first/);
  await expectMcpError(client.readResource({ uri: 'specwright://rules/nope' }), -32002);
  await expectMcpError(client.readResource({ uri: 'specwright://spec/../../etc/passwd' }), -32602, /outside the project/);
  const { resourceTemplates } = await client.listResourceTemplates();
  assert.deepEqual(resourceTemplates, []);

  const { prompts } = await client.listPrompts();
  assert.deepEqual(prompts.map((p) => p.name), ['testing']);
  const prompt = await client.getPrompt({ name: 'testing', arguments: { task: 'add a login test' } });
  assert.equal(prompt.messages[0].role, 'user');
  assert.match(prompt.messages[0].content.text, /Write the test first\.[\s\S]*## Task\n\nadd a login test/);
  await client.ping();
}

assert.ok(!existsSync(join(dir, '.specwright')));

test('stdio: the SDK client lists and calls everything', async () => {
  const client = await stdioClient();
  await exercise(client);
  await client.close();
  assert.ok(!existsSync(join(dir, '.specwright')), 'a read-only server created no store');
});

test('stdio: --allow-writes adds run_start and gate_approve', async () => {
  const client = await stdioClient(['--allow-writes']);
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes('run_start') && names.includes('gate_approve'), names.join(', '));
  const outside = await client.callTool({ name: 'run_start', arguments: { workflow: '../flow.yaml' } });
  assert.equal(outside.isError, true);
  assert.match(outside.content[0].text, /outside the project/);
  await client.close();
});

test('Streamable HTTP: the SDK client over a session, then the transport rules', async () => {
  const { url } = await startHttp();
  const client = newClient();
  const transport = new StreamableHTTPClientTransport(url);
  await client.connect(transport);
  assert.ok(transport.sessionId, 'a session id was issued at initialize');
  await exercise(client);

  const sid = transport.sessionId;
  const post = (body, headers = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const ping = { jsonrpc: '2.0', id: 99, method: 'ping' };
  const session = { 'mcp-session-id': sid, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  assert.equal((await post(ping, session)).status, 200);
  assert.equal((await post(ping)).status, 400, 'no session id');
  assert.equal((await post(ping, { ...session, 'mcp-protocol-version': '1999-01-01' })).status, 400, 'unknown version header');
  assert.equal((await post(ping, { ...session, origin: 'http://evil.example' })).status, 403, 'foreign Origin');
  assert.equal((await post(ping, { ...session, origin: `http://localhost:${url.port}` })).status, 200, 'local Origin');
  assert.equal((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)).status, 202);
  const parse = await post('{not json', session);
  assert.equal(parse.status, 400);
  assert.equal((await parse.json()).error.code, -32700);
  assert.equal((await fetch(url, { headers: session })).status, 405, 'GET: no server stream');
  // A body over the 4 MiB limit is refused from its Content-Length, before it is read (sent
  // by hand: a client still writing the body when the server answers and closes sees a reset).
  const status = await new Promise((resolve, reject) => {
    const sock = connect(Number(url.port), '127.0.0.1', () =>
      sock.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${url.port}\r\nContent-Type: application/json\r\n` +
        `Mcp-Session-Id: ${sid}\r\nContent-Length: ${5 << 20}\r\n\r\n{"jsonrpc":"2.0",`));
    let got = '';
    sock.on('data', (d) => {
      got += d;
      const m = got.match(/^HTTP\/1\.1 (\d+)/);
      if (m) {
        resolve(Number(m[1]));
        sock.destroy();
      }
    });
    sock.on('error', reject);
  });
  assert.equal(status, 413, 'a body over the 4 MiB limit');
  await transport.terminateSession();
  assert.equal((await post(ping, session)).status, 404, 'the session ended with DELETE');
  await client.close();
});

test('Streamable HTTP with a token: none or a wrong one is refused', async () => {
  const { url } = await startHttp(['--token', 'sekrit-token-123']);
  const anonymous = new Client({ name: 't', version: '1' });
  await assert.rejects(anonymous.connect(new StreamableHTTPClientTransport(url)));
  const client = newClient();
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: 'Bearer sekrit-token-123' } } }));
  const traced = await client.callTool({ name: 'spec_trace', arguments: { id: 'US-03-001' } });
  assert.ok(!traced.isError);
  await client.close();
});

test('Streamable HTTP with the token from SPECWRIGHT_MCP_TOKEN (not in argv)', async () => {
  const { url } = await startHttp([], { SPECWRIGHT_MCP_TOKEN: 'env-token-4567' });
  const anonymous = new Client({ name: 't', version: '1' });
  await assert.rejects(anonymous.connect(new StreamableHTTPClientTransport(url)));
  const client = newClient();
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: 'Bearer env-token-4567' } } }));
  const traced = await client.callTool({ name: 'spec_trace', arguments: { id: 'US-03-001' } });
  assert.ok(!traced.isError);
  await client.close();
});
