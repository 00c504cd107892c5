// The small spec project both MCP node tests serve (in a temporary folder, removed after the
// test file), and `specwright mcp --http --port 0` started on it, resolved with its URL.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = process.env.SW_BINARY;
assert.ok(BIN, 'set SW_BINARY to the specwright binary');

export const dir = mkdtempSync(join(tmpdir(), 'sw-mcp-test-'));
export function put(rel, text) {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  writeFileSync(join(dir, rel), text);
}
put('specs/requirements.md', '# Requirements\n\n## REQ-01-001 User can sign up\n\nA visitor signs up with an email and a password.\n');
put('specs/stories.md', '# Stories\n\n## US-03-001 Sign-up form\n\nThe form of REQ-01-001.\n');
put('src/signup.js', '// US-03-001: the sign-up handler\nexport function signup() {}\n');
put('rules/testing.md', '# Testing rules\n\nWrite the test first.\n');
put('CONTEXT.md', '# Context\n\nA sign-up service.\n');

/** children: every server a test started, stopped after the file's tests. */
export const children = [];
after(() => {
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** startHttp runs `specwright mcp --http --port 0` (env added to ours) and resolves with its URL once it listens. */
export function startHttp(extra = [], env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['mcp', '--dir', dir, '--http', '--port', '0', ...extra],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.push(child);
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\/mcp/);
      if (m) resolve({ url: new URL(m[0]), child });
    });
    child.on('exit', (code) => reject(new Error(`specwright mcp --http exited ${code}: ${out}${err}`)));
  });
}
