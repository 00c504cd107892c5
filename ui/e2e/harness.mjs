// Shared by the browser test and the UI benchmark: run the real binary, start a real
// `specwright ui` on a free loopback port, and drive Debian's chromium with playwright-core.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const BIN = process.env.SW_BINARY;
export const FAKELLM = process.env.SW_FAKELLM;
export const SOURCE = process.env.SW_SOURCE_DIR;
export const UI_DIR = process.env.SW_UI_DIR;

export function need(...names) {
  for (const n of names) if (!process.env[n]) throw new Error(`${n} is not set (run through ctest or bench/run.sh)`);
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** cli runs the binary to completion; throws with its stderr unless the exit code is allowed. */
export function cli(store, args, { cwd, env = {}, ok = [0] } = {}) {
  const r = spawnSync(BIN, [...args, '--store', store], { cwd: cwd ?? SOURCE, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (!ok.includes(r.status)) throw new Error(`specwright ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export function cliJson(store, args, opts) {
  return JSON.parse(cli(store, [...args, '--json'], opts));
}

/** background starts the binary and returns the child (for runs that go on during a test). */
export function background(store, args, { cwd, env = {} } = {}) {
  const child = spawn(BIN, [...args, '--store', store], { cwd: cwd ?? SOURCE, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  child.done = new Promise((resolve) => child.on('exit', (code) => resolve({ code, err })));
  return child;
}

/** startServer starts a child that prints its base URL on its first line (ui, fakellm). */
function startPrinting(cmd, args, env, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} printed no URL: ${out}${err}`)), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${out}${err}`)));
  });
}

export async function startUi(store, dir, extra = [], env = {}) {
  const { child, url } = await startPrinting(BIN, ['ui', '--port', '0', '--dir', dir, '--store', store, '--ui-dir', UI_DIR, ...extra], env, /(http:\/\/127\.0\.0\.1:\d+\/(?:\?token=\S+)?)\s/);
  return { child, url, stop: () => child.kill('SIGTERM') };
}

export async function startFakeLlm(args) {
  const { child, url } = await startPrinting(FAKELLM, args, {}, /(http:\/\/127\.0\.0\.1:\d+)/);
  return { child, url, stop: () => child.kill('SIGTERM') };
}

export async function launchBrowser() {
  // Flags as the machine notes say: no sandbox as root, no background networking (the closed
  // network refuses it), a fresh profile.
  return chromium.launch({
    executablePath: process.env.SW_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** ready waits until the page says its data has rendered (document.documentElement.dataset.ready). */
export async function ready(page, name, timeout = 15000) {
  await page.waitForFunction((n) => document.documentElement.dataset.ready === n, name, { timeout });
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}
