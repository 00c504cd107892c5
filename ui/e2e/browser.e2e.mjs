// The web UI end to end: a real `specwright ui` over a store filled by real runs of the real
// binary (scripted provider, and specwright-fakellm over HTTP for a slowly streamed answer),
// driven in headless Debian chromium by playwright-core. Every page is opened and checked;
// any console error or uncaught exception fails the test. With SW_SCREENSHOTS=DIR each page
// is also saved as a PNG (docs/screenshots is made this way).
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { background, cli, cliJson, launchBrowser, need, ready, SOURCE, startFakeLlm, startUi, tempDir } from './harness.mjs';

need('SW_BINARY', 'SW_FAKELLM', 'SW_UI_DIR', 'SW_SOURCE_DIR');
const shots = process.env.SW_SCREENSHOTS;
if (shots) mkdirSync(shots, { recursive: true });

const tmp = tempDir('sw-ui-e2e-');
const store = join(tmp, 'store');
const work = join(tmp, 'work');
cpSync(join(SOURCE, 'examples'), work, { recursive: true });
writeFileSync(join(work, 'broken.yaml'), 'name: broken\ndefaults: {model: scripted/demo}\nnodes:\n  a: {prompt: "x", needs: [b]}\n');
writeFileSync(join(work, 'slow.yaml'), `name: slow-stream
defaults: {model: scripted/demo}
nodes:
  outline: {prompt: "Outline a note on tides"}
  write: {needs: [outline], model: openai-compatible/fake-model, prompt: "Write the note from {{nodes.outline.output}}"}
  title: {needs: [write], prompt: "Title for {{nodes.write.output}}"}
`);
// The fake model streams a long answer in 40 pieces, 120 ms apart (about 5 s).
writeFileSync(join(tmp, 'fake.yaml'), 'default: {text: "' + Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ') + '"}\n');
writeFileSync(join(work, 'slow-script.yaml'), 'nodes:\n  "*": [{text: "Tides rise twice a day."}]\n');
// A run whose middle node fails once (the provider is overloaded), taking its dependent down.
writeFileSync(join(work, 'failing.yaml'), `name: failing
defaults: {model: scripted/demo}
nodes:
  outline: {prompt: "Outline a note on tides"}
  write: {needs: [outline], prompt: "Write the note from {{nodes.outline.output}}"}
  title: {needs: [write], prompt: "Title for {{nodes.write.output}}"}
`);
writeFileSync(join(work, 'failing-script.yaml'), `nodes:
  write:
    - when: {attempt: 1}
      error: {message: "upstream said 529 overloaded", retryable: false}
    - text: "Tides rise twice a day."
  "*": [{text: "fine"}]
`);

// A small workflow the editor changes, saves and runs.
mkdirSync(join(work, 'edit'));
writeFileSync(join(work, 'edit/flow.yaml'), `name: edit-me
inputs:
  topic: {type: string, description: what the note is about}
  words: {type: integer, default: 50}
defaults: {model: scripted/demo}
nodes:
  outline: {prompt: "Outline a note on {{inputs.topic}}"}
  write:
    needs: [outline]
    prompt: "Write {{inputs.words}} words from {{nodes.outline.output}}"
`);
writeFileSync(join(work, 'edit/script.yaml'), 'nodes:\n  "*": [{text: "fine"}]\n');

const launch = join(work, 'launch/flow.yaml');
const launchScript = join(work, 'launch/script.yaml');
cli(store, ['run', launch, '--script', launchScript, '--yes', '--run-id', 'launch-ok'], { cwd: work });
cli(store, ['run', launch, '--script', launchScript, '--run-id', 'launch-wait', '--no-cache'], { cwd: work, ok: [3] });
cli(store, ['run', join(work, 'agent-fix/flow.yaml'), '--script', join(work, 'agent-fix/script.yaml'), '--run-id', 'agent'], { cwd: work });
cli(store, ['replay', 'launch-ok', '--from', 'review', '--yes', '--run-id', 'launch-replay'], { cwd: work });
cli(store, ['run', launch, '--script', launchScript, '--run-id', 'launch-gate', '--no-cache'], { cwd: work, ok: [3] });
cli(store, ['run', join(work, 'failing.yaml'), '--script', join(work, 'failing-script.yaml'), '--run-id', 'failing'], { cwd: work, ok: [1] });
// A develop and a modify of the demo's project: two sessions of the LLM developer.
const tip = join(work, 'develop/tipsplit');
const rec = ['--script', join(tip, 'recording.yaml'), '--config', join(tip, 'specwright.yaml')];
cli(store, ['develop', join(tip, 'BRIEF.md'), '--workspace', join(tmp, 'tipsplit'), '--yes', ...rec], { cwd: work });
// A pending change: the same modify of a copy of the developed project, stopped where it asks
// to approve its impact plan.
cpSync(join(tmp, 'tipsplit'), join(tmp, 'tipsplit-pending'), { recursive: true });
cli(store, ['modify', 'Allow tips up to 50%', '--workspace', join(tmp, 'tipsplit-pending'), ...rec], { cwd: work, ok: [3] });
cli(store, ['modify', 'Allow tips up to 50%', '--workspace', join(tmp, 'tipsplit'), '--yes', ...rec], { cwd: work });
// A develop that a person drives: it waits at its question, then at the requirements gate.
const gatedDevelop = () => cli(store, ['develop', join(tip, 'BRIEF.md'), '--workspace', join(tmp, 'gated'), ...rec], { cwd: work, ok: [3] });
gatedDevelop();
const asked = cliJson(store, ['runs', '--search', 'question', '--limit', '100']).find((r) => r.status === 'waiting');
cli(store, ['approve', asked.id, 'ask', '--text', 'Round each share up to the cent'], { cwd: work });
gatedDevelop();

const ui = await startUi(store, work);
const fake = await startFakeLlm(['--chunks', '40', '--chunk-gap-ms', '120', '--script', join(tmp, 'fake.yaml')]);
const browser = await launchBrowser();
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const problems = [];
const page = await context.newPage();
const watch = (p) => {
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console error on ${p.url()}: ${m.text()}`); });
  p.on('pageerror', (e) => problems.push(`uncaught on ${p.url()}: ${e.message}`));
};
watch(page);
const api = async (path) => {
  const r = await fetch(ui.url + 'api/v1/' + path);
  assert.equal(r.status, 200, `GET ${path}: ${r.status}`);
  return r.json();
};
const open = async (hash, name) => {
  // The page shown before says it is ready too: clear that first, or a page of the same name
  // (two workflows, one after the other) would look ready before the new route is rendered,
  // and the test would type into the old page's editor (seen under load in `make test`).
  // (Only when the route changes: the same route again renders nothing new to say so.)
  await page
    .evaluate((h) => {
      if (location.hash !== h) delete document.documentElement.dataset.ready;
    }, '#/' + hash)
    .catch(() => {});
  await page.goto(ui.url + '#/' + hash);
  await ready(page, name);
};
const shot = async (name) => {
  if (shots) await page.screenshot({ path: join(shots, name + '.png') });
};

/** The finished develop of the demo's project (not the one waiting at its gate). */
const developSession = async () => (await api('sessions')).find((x) => x.kind === 'develop' && x.project.endsWith('/tipsplit'));

const failures = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}: ${e.stack || e}`);
    if (shots) await page.screenshot({ path: join(shots, 'FAILED-' + name.replace(/\W+/g, '-') + '.png') }).catch(() => {});
  }
}

try {
  await check('runs list shows every run with its status', async () => {
    await open('runs', 'runs');
    const runs = await api('runs');
    const rows = page.getByTestId('run-row');
    assert.equal(await rows.count(), runs.length);
    for (const r of runs) {
      const row = page.locator(`[data-testid="run-row"][data-run-id="${r.id}"]`);
      assert.equal(await row.getAttribute('data-status'), r.status, r.id);
    }
    await shot('runs');
  });

  await check('sessions list the develop and the modify with their spend', async () => {
    await open('sessions', 'sessions');
    const sessions = (await api('sessions')).filter((x) => x.project.endsWith('/tipsplit'));
    assert.equal(sessions.length, 2);
    assert.deepEqual(sessions.map((s) => s.kind), ['modify', 'develop']);
    // A session lasts until its last run ended, not until its last run began.
    for (const s of sessions) assert.ok(s.finished_at > s.last_run_at, JSON.stringify(s));
    assert.equal(await page.getByTestId('session-row').count(), 4);  // and the gated develop, the pending change
    for (const s of sessions) {
      const row = page.locator(`[data-testid="session-row"][data-session="${s.session}"]`);
      assert.ok((await row.innerText()).includes(s.steps[0]), `${s.session} lists its steps`);
    }
    await shot('sessions');
  });

  await check("a develop's session page shows its steps in order, its tasks, QA and runs", async () => {
    const dev = await developSession();
    const detail = await api('sessions/' + dev.session);
    await open('sessions/' + dev.session, 'session');
    const steps = page.getByTestId('session-step');
    assert.equal(await steps.count(), detail.step_list.length);
    const keys = await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
    assert.equal(keys[0], 'complexity');
    assert.ok(keys.indexOf('tests-code') > keys.indexOf('tasks') && keys.indexOf('tests-code') < keys.indexOf('development-1'), keys.join(' '));
    assert.equal(await page.getByTestId('session-run').count(), detail.run_list.length);
    assert.equal(await page.getByTestId('session-task').count(), 2);
    assert.ok((await page.getByTestId('session-qa').innerText()).includes('6 test cases passed, 0 failed'));
    await shot('session-develop');
    // A step links to its run's graph.
    await page.locator('[data-testid="session-step"][data-step="requirements"] a').click();
    await ready(page, 'graph');
    assert.ok(page.url().includes('#/runs/'), page.url());
  });

  await check("a modify's session page shows its route and what the cascade check kept", async () => {
    const mod = (await api('sessions')).find((x) => x.kind === 'modify');
    await open('sessions/' + mod.session, 'session');
    const change = await page.getByTestId('session-change').innerText();
    assert.ok(change.includes('Allow tips up to 50%'), change);
    assert.ok(change.includes('entry: requirements'), change);
    assert.ok((await page.getByTestId('change-kept').innerText()).includes('ERR-05-001'));
    await shot('session-modify');
  });

  await check('specs render with their IDs as links; the matrix filters; check is clean', async () => {
    const dev = await developSession();
    const view = await api(`sessions/${dev.session}/spec`);
    await open(`sessions/${dev.session}`, 'session');
    await page.getByTestId('spec-link').click();
    await ready(page, 'spec');
    assert.equal(await page.getByTestId('doc-link').count(), view.docs.length);
    // The requirements, with every ID a link to its trace.
    await open(`sessions/${dev.session}/spec?tab=docs&id=BR-01-001`, 'spec');
    const doc = page.getByTestId('spec-doc');
    assert.ok((await doc.innerText()).includes('Tip range'));
    assert.ok((await page.getByTestId('id-link').count()) > 5);
    assert.ok(await page.locator('[data-item="BR-01-001"]').isVisible());
    await shot('spec-docs');
    await open(`sessions/${dev.session}/spec?tab=matrix`, 'spec');
    assert.equal(await page.getByTestId('matrix-row').count(), view.matrix.rows.length);
    assert.equal(await page.locator('[data-testid="coverage"] td[data-column="passing"]').innerText(), '100.0%');
    await shot('spec-matrix');
    await page.getByTestId('matrix-filter').fill('REQ-01-003');
    assert.equal(await page.getByTestId('matrix-row').count(), 1);
    await open(`sessions/${dev.session}/spec?tab=check`, 'spec');
    assert.ok((await page.getByTestId('check-clean').innerText()).includes('0 errors, 0 warnings'));
  });

  await check('a trace goes up to the requirement and down to code and passing tests; a file opens at its line', async () => {
    const dev = await developSession();
    const trace = await api(`sessions/${dev.session}/spec/trace/BR-01-001`);
    await open(`sessions/${dev.session}/spec?tab=trace&id=BR-01-001`, 'trace');
    const up = await page.getByTestId('trace-up').innerText();
    assert.ok(up.includes('REQ-01-001'), up);
    const down = page.getByTestId('trace-down');
    assert.equal(await down.locator('[data-testid="trace-item"]').count(), trace.down.length);
    const tc = down.locator('[data-testid="trace-item"][data-id="TC-06-004"]');
    assert.equal(await tc.locator('[data-status]').getAttribute('data-status'), 'succeeded');
    assert.equal(await page.getByTestId('trace-code').locator('li').count(), trace.code.length);
    // What a change to the rule would regenerate, as modify plans it.
    const impact = await api(`sessions/${dev.session}/spec/impact?ids=BR-01-001`);
    const shownImpact = await page.getByTestId('impact').innerText();
    assert.ok(shownImpact.includes(`${impact.items.length} items`) && shownImpact.includes('TC-06-004') && shownImpact.includes('src/split.h'), shownImpact);
    await shot('spec-trace');
    const first = trace.code[0];
    await page.getByTestId('trace-code').getByTestId('file-link').first().click();
    await ready(page, 'file');
    const marked = await page.getByTestId('marked-line').innerText();
    assert.ok(marked.startsWith(String(first.line)), marked);
    assert.ok(marked.includes(first.id.slice(0, 3)) || marked.includes(first.id.replaceAll('-', '_')), marked);
    await shot('file');
  });

  await check('a pending change: its impact from its session, highlighted in the matrix; any IDs typed', async () => {
    const pending = (await api('sessions')).find((x) => x.kind === 'modify' && x.project.endsWith('/tipsplit-pending'));
    assert.ok(pending, 'the pending modify is a session');
    assert.equal(pending.status, 'waiting');
    await open(`sessions/${pending.session}`, 'session');
    await page.getByTestId('change-impact').click();
    await ready(page, 'impact');
    const row = page.locator(`[data-testid="pending-change"][data-session="${pending.session}"]`);
    await row.waitFor();
    assert.ok((await row.innerText()).includes('Allow tips up to 50%'));
    const impact = await api(`sessions/${pending.session}/spec/impact?ids=BR-01-001`);
    assert.ok((await page.getByTestId('impact').innerText()).includes(`${impact.items.length} items`));
    // The matrix shows only the requirements the change reaches, their items highlighted.
    const view = await api(`sessions/${pending.session}/spec`);
    const reached = new Set([...impact.changed, ...impact.items]);
    const expected = view.matrix.rows
      .filter((r) => reached.has(r.id) || view.matrix.columns.some((c) => (r[c] ?? []).some((v) => reached.has(v.split(' ')[0]))))
      .map((r) => r.id);
    assert.ok(expected.length >= 1 && expected.length < view.matrix.rows.length, JSON.stringify(expected));
    const shownRows = await page.getByTestId('matrix-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    assert.deepEqual(shownRows, expected);
    assert.equal(await page.locator('[data-testid="matrix-row"].impacted-row').count(), expected.length);
    assert.ok((await page.locator('a.impacted').allInnerTexts()).includes('TC-06-004'));
    await shot('spec-impact');
    await page.getByTestId('only-impacted').uncheck();
    assert.equal(await page.getByTestId('matrix-row').count(), view.matrix.rows.length);
    // Any IDs, typed; one that is not an item is named.
    await page.getByTestId('impact-ids').fill('REQ-01-003, NOPE-1');
    await page.getByTestId('impact-show').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="impact"] h4')?.textContent?.includes('REQ-01-003'));
    await page.getByText('Not items of this project: NOPE-1').waitFor();
    // Dropped, it is no longer pending (and no longer waits on the Approvals page).
    cli(store, ['modify', '--abandon', '--workspace', pending.project], { cwd: work });
    await open(`sessions/${pending.session}/spec?tab=impact`, 'spec');
    await page.getByTestId('no-pending').waitFor();
  });

  await check("the runs list names each develop step and links its session", async () => {
    await open('runs', 'runs');
    const links = page.getByTestId('run-session');
    assert.ok((await links.count()) >= 14);
    await page.getByTestId('run-search').fill('requirements');
    const rows = page.getByTestId('run-row');
    assert.ok((await rows.count()) >= 2, 'the develop and the modify each ran requirements');
  });

  await check('run graph shows each node with its status', async () => {
    await open('runs/launch-ok', 'graph');
    const shown = await api('runs/launch-ok');
    assert.ok(Object.keys(shown.inputs).length > 0, 'the run has inputs');
    const inputs = await page.getByTestId('run-inputs').innerText();
    for (const k of Object.keys(shown.inputs)) assert.ok(inputs.includes(k), `the header shows input ${k}: ${inputs}`);
    const graph = await api('runs/launch-ok/graph');
    assert.equal(await page.getByTestId('graph-node').count(), graph.nodes.length);
    for (const n of graph.nodes) {
      const el = page.locator(`[data-testid="graph-node"][data-node-id="${n.id}"]`);
      assert.equal(await el.getAttribute('data-status'), n.status, n.id);
    }
    await shot('graph');
  });

  await check('the graph draws arrowheads, the loop back edge, the condition and the map count; a click opens the panel', async () => {
    await open('runs/launch-ok', 'graph');
    const graph = await api('runs/launch-ok/graph');
    const review = graph.nodes.find((n) => n.id === 'review');
    assert.equal(review.loop.to, 'draft');
    assert.equal(await page.locator('.react-flow__edge.back-edge').count(), 1);
    const labels = await page.locator('.react-flow__edge-text').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    assert.ok(labels.some((t) => t.startsWith('loop while nodes.review.json.approved')), labels.join(' | '));
    assert.ok(labels.some((t) => t.startsWith('when nodes.plan.json.needs_legal')), labels.join(' | '));
    assert.ok((await page.locator('.react-flow__edge path[marker-end]').count()) >= graph.nodes.length - 1, 'arrowheads');
    const copy = graph.nodes.find((n) => n.id === 'feature_copy');
    assert.ok((await page.locator('[data-testid="graph-node"][data-node-id="feature_copy"]').innerText()).includes(`× ${copy.items} items`));
    await page.locator('[data-testid="graph-node"][data-node-id="review"]').click();
    const panel = page.getByTestId('node-panel');
    assert.ok((await panel.innerText()).includes('back to draft while'));
    await shot('graph-panel');
    await panel.getByTestId('open-inspector').click();
    await ready(page, 'node');
    assert.ok(page.url().endsWith('/nodes/review'), page.url());
  });

  await check('a waiting gate is approved from its node in the graph', async () => {
    await open('runs/launch-gate', 'graph');
    await page.locator('[data-testid="graph-node"][data-node-id="sign_off"]').click();
    const panel = page.getByTestId('node-panel');
    await panel.getByTestId('gate-decision').locator('textarea').fill('fine by me');
    await panel.getByTestId('panel-approve').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="panel-said"]')?.textContent?.includes('approved'), null, { timeout: 15000 });
    let status = '';
    for (let i = 0; i < 200 && status !== 'succeeded'; i++) {
      status = (await api('runs/launch-gate')).status;
      if (status !== 'succeeded') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 'succeeded');
    assert.ok((await api('runs/launch-gate/nodes/sign_off')).output.includes('fine by me'));
  });

  await check("node inspector shows the node's prompt and response", async () => {
    await open('runs/launch-ok/nodes/draft', 'node');
    const node = await api('runs/launch-ok/nodes/draft');
    const prompt = await page.getByTestId('prompt').first().innerText();
    const last = node.calls[node.calls.length - 1];
    for (const line of last.prompt[last.prompt.length - 1].content.split('\n').filter(Boolean).slice(0, 3))
      assert.ok(prompt.includes(line.trim()), `prompt shows ${JSON.stringify(line)}`);
    const responses = await page.getByTestId('response').allInnerTexts();
    assert.ok(responses.some((t) => t.includes(last.response.trim().split('\n')[0])), 'response shown');
    assert.ok((await page.getByTestId('attempts').innerText()).includes('succeeded'));
    await shot('node');
  });

  await check("an agent's tool calls appear with their arguments", async () => {
    const node = await api('runs/agent/nodes/fix');
    assert.ok(node.tool_calls.length > 0);
    await open('runs/agent/nodes/fix', 'node');
    const text = await page.locator('body').innerText();
    assert.ok(text.includes(node.tool_calls[0].name), 'first tool name shown');
    // One conversation, shown once: a turn per model call, each turn's tool calls folded under it.
    assert.equal(await page.getByTestId('agent-thread').count(), 1);
    assert.equal(await page.getByTestId('agent-turn').count(), node.calls.length);
    assert.equal(await page.getByTestId('prompt').count(), 1);
    assert.equal(await page.getByTestId('tool-call').count(), node.tool_calls.length);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(height < 2500, `the agent page is ${height} px tall`);
    await shot('node-agent');
  });

  await check('timeline draws one bar per attempt', async () => {
    await open('runs/launch-ok/timeline', 'timeline');
    const trace = await api('runs/launch-ok/trace');
    assert.equal(await page.getByTestId('gantt-bar').count(), trace.rows.length);
    await shot('timeline');
  });

  await check("a run's cost total equals `specwright cost RUN --json`", async () => {
    await open('runs/launch-ok/cost', 'cost');
    const want = cliJson(store, ['cost', 'launch-ok']).total.cost_usd;
    const got = Number(await page.getByTestId('cost-total').getAttribute('data-usd'));
    assert.equal(got, want);
    await shot('cost-run');
  });

  await check('the cost page across runs equals `specwright cost --since 7d --json`', async () => {
    await open('cost?since=7d', 'cost');
    const sinceJson = cliJson(store, ['cost', '--since', '7d']);
    const want = sinceJson.total.cost_usd;
    // The develops and the modify each have their line, linked to the session's page.
    assert.ok(sinceJson.by_session.length >= 3, JSON.stringify(sinceJson.by_session.map((b) => b.key)));
    const mod = (await api('sessions')).find((x) => x.kind === 'modify');
    assert.ok((await page.locator(`a[href="#/sessions/${mod.session}"]`).count()) >= 1, 'the cost page links the modify session');
    const got = Number(await page.getByTestId('cost-total').getAttribute('data-usd'));
    assert.ok(Math.abs(got - want) < 1e-12, `${got} vs ${want}`);
    await shot('cost');
  });

  await check('artifacts show their content and lineage', async () => {
    await open('runs/launch-ok/artifacts', 'artifacts');
    const arts = await api('runs/launch-ok/artifacts');
    const text = await page.locator('body').innerText();
    for (const a of arts.artifacts.slice(0, 3)) assert.ok(text.includes(a.name), a.name);
    // Its content, as stored.
    const md = arts.artifacts.find((a) => a.media_type === 'text/markdown') ?? arts.artifacts[0];
    await page.locator(`[data-testid="artifact"][data-name="${md.name}"]`).click();
    const want = await (await fetch(ui.url + 'api/v1/blobs/' + md.blob)).text();
    await page.waitForFunction((w) => (document.querySelector('[data-testid="artifact-content"]')?.textContent || '').includes(w), want.trim().split('\n')[0], { timeout: 10000 });
    await shot('artifacts');
  });

  await check('diff compares two runs node by node', async () => {
    await open('diff?a=launch-ok&b=launch-replay', 'diff');
    const d = await api('diff?a=launch-ok&b=launch-replay');
    assert.equal(await page.getByTestId('diff-row').count(), d.nodes.length);
    await shot('diff');
  });

  await check('replay from a node starts a run that reuses the rest', async () => {
    await open('replay/launch-ok', 'replay');
    const text = await page.locator('body').innerText();
    assert.ok(text.includes('review') && text.includes('draft'));
    await shot('replay');
    const before = new Set((await api('runs')).map((r) => r.id));
    await page.locator('[data-testid="replay-node"][data-node-id="review"] [data-testid="replay-from"]').check();
    await page.getByTestId('replay-submit').click();
    let fresh;
    for (let i = 0; i < 100 && !fresh; i++) {
      fresh = (await api('runs')).find((r) => !before.has(r.id));
      if (!fresh) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(fresh, 'a new run appeared');
    // The replay re-runs review and what follows (it waits at the sign-off gate); plan is reused.
    for (let i = 0; i < 100 && !(await api('approvals')).some((a) => a.run_id === fresh.id); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal((await api('runs/' + fresh.id + '/nodes/plan')).calls.length, 0, 'plan reused');
    assert.ok((await api('runs/' + fresh.id + '/nodes/review')).calls.length > 0, 'review ran live');
    await page.waitForFunction(() => location.hash.includes('/runs/'), null, { timeout: 10000 });
    // Let it finish: its gate is answered through the API (the approvals page is checked below).
    const r = await fetch(ui.url + 'api/v1/runs/' + fresh.id + '/approve', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ node: 'sign_off' }),
    });
    assert.equal(r.status, 200, await r.text());
    for (let i = 0; i < 100 && (await api('runs/' + fresh.id)).status !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await api('runs/' + fresh.id)).status, 'succeeded');
  });

  await check('workflows: YAML beside its graph, errors at their line', async () => {
    await open('workflows', 'workflows');
    assert.ok((await page.locator('body').innerText()).includes('launch/flow.yaml'));
    await shot('workflows');
    await open('workflow?path=launch/flow.yaml', 'workflow');
    assert.ok((await page.getByTestId('graph-node').count()) >= 8);
    await shot('workflow');
    await open('workflow?path=broken.yaml', 'workflow');
    const err = page.getByTestId('workflow-error').first();
    assert.equal(await err.getAttribute('data-line'), '4');
    assert.ok((await err.innerText()).includes('"b"'));
    // The loader's error sits in the gutter and under its text, not over the code.
    await page.waitForSelector('.cm-lint-marker-error');
    assert.ok((await page.locator('.cm-lintRange-error').count()) >= 1);
  });

  await check('the editor completes and explains from the schema, checks as you type, saves and runs', async () => {
    const file = join(work, 'edit/flow.yaml');
    const original = readFileSync(file, 'utf8');
    await open('workflow?path=edit/flow.yaml', 'workflow');
    const graph = page.getByTestId('workflow-graph');
    assert.equal(await graph.getAttribute('data-nodes'), '2');
    // Pasted text goes in as a person's paste does (CodeMirror's own paste handling).
    const paste = (text) => page.evaluate((t) => {
      const dt = new DataTransfer();
      dt.setData('text/plain', t);
      document.querySelector('.cm-content').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, text);
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await paste('  title:\n    prompt: "Title for {{nodes.write.output}}"\n    ');
    // A key: the node's keys from the schema, with their types and docs.
    await page.keyboard.type('nee');
    const popup = page.locator('.cm-tooltip-autocomplete');
    await popup.waitFor();
    assert.ok((await popup.innerText()).includes('needs'), await popup.innerText());
    await shot('editor-completion');
    await page.keyboard.press('Enter');
    // A value where a node is named: the workflow's node ids.
    await page.keyboard.type('[wr');
    await popup.waitFor();
    assert.deepEqual((await page.locator('.cm-tooltip-autocomplete li').allInnerTexts()).map((t) => t.split('node')[0]), ['write']);
    await page.keyboard.press('Enter');
    // The text is checked when it rests, and the graph follows it.
    await page.waitForFunction(() => document.querySelector('[data-testid="workflow-graph"]')?.getAttribute('data-nodes') === '3');
    await page.waitForSelector('[data-testid="workflow-ok"]');
    // A bad value: underlined, in the gutter and in the list; undo puts it right.
    await page.keyboard.press('End'); // past the bracket the editor closed
    await paste('\n    output: jsn');
    await page.waitForSelector('[data-testid="workflow-error"]');
    assert.ok((await page.getByTestId('workflow-error').first().innerText()).includes('did you mean "json"'));
    assert.ok((await page.locator('.cm-lint-marker-error').count()) >= 1);
    assert.ok((await page.locator('.cm-lintRange-error').count()) >= 1);
    await shot('editor-error');
    await page.keyboard.press('Control+z');
    await page.waitForSelector('[data-testid="workflow-ok"]');
    // Hover: the schema's description of a key.
    await page.keyboard.press('Control+Home');
    const box = await page.locator('.cm-line', { hasText: 'defaults:' }).first().boundingBox();
    await page.mouse.move(box.x + 12, box.y + box.height / 2);
    const doc = page.getByTestId('hover-doc');
    await doc.waitFor();
    assert.ok((await doc.innerText()).includes('Settings applied to every node'), await doc.innerText());
    await page.mouse.move(5, 5);
    // Save never overwrites a change made on disk since the file was read ...
    writeFileSync(file, original + '# edited by hand\n');
    await page.getByTestId('save').click();
    await page.getByTestId('reload').waitFor();
    assert.ok((await page.getByTestId('save-error').innerText()).includes('changed on disk'));
    // (the browser logs the refused request itself; it is the one console error expected)
    const refused = problems.findIndex((p) => p.includes('status of 409'));
    assert.ok(refused >= 0, 'the browser saw the 409');
    problems.splice(refused, 1);
    assert.equal(readFileSync(file, 'utf8'), original + '# edited by hand\n');
    writeFileSync(file, original);
    // ... and writes the text otherwise.
    await page.getByTestId('save').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="save-state"]')?.textContent === 'saved');
    const saved = readFileSync(file, 'utf8');
    assert.ok(saved.includes('  title:\n    prompt: "Title for {{nodes.write.output}}"\n    needs: [write]'), saved);
    // After a refused save, "Reload from disk" puts the file's text in the editor.
    writeFileSync(file, saved + '# edited again\n');
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('# mine');
    await page.getByTestId('save').click();
    await page.getByTestId('reload').click();
    await page.waitForFunction(() => {
      const t = document.querySelector('.cm-content')?.textContent || '';
      return t.includes('# edited again') && !t.includes('# mine');
    });
    const refusedAgain = problems.findIndex((p) => p.includes('status of 409'));
    assert.ok(refusedAgain >= 0, 'the browser saw the second 409');
    problems.splice(refusedAgain, 1);
    // Run: a form for the declared inputs; the run is its own process, followed on its graph.
    await page.getByTestId('run-open').click();
    assert.equal(await page.getByTestId('input-words').inputValue(), '50');
    assert.equal(await page.getByTestId('run-script').inputValue(), 'edit/script.yaml');
    await page.getByTestId('run-submit').click();
    await page.getByTestId('run-form').getByText('topic is required').waitFor();
    await page.getByTestId('input-topic').fill('kites');
    await page.getByTestId('input-words').fill('30');
    await shot('editor-run');
    await page.getByTestId('run-submit').click();
    await page.waitForURL(/#\/runs\/[^/]+$/, { timeout: 15000 });
    const id = decodeURIComponent(page.url().split('#/runs/')[1]);
    await ready(page, 'graph');
    for (let i = 0; i < 200 && (await api('runs/' + id)).status !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 50));
    const run = await api('runs/' + id);
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.inputs, { topic: 'kites', words: 30 });
    assert.equal(run.nodes.length, 3);
  });

  await check('a live run updates over SSE: running, streamed text, then succeeded', async () => {
    const run = background(store, ['run', join(work, 'slow.yaml'), '--script', join(work, 'slow-script.yaml'), '--run-id', 'live'], {
      cwd: work,
      env: { OPENAI_COMPATIBLE_BASE_URL: fake.url + '/v1', OPENAI_COMPATIBLE_API_KEY: 'sk-test' },
    });
    for (let i = 0; i < 100; i++) {
      if ((await fetch(ui.url + 'api/v1/runs/live')).status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await open('runs/live', 'graph');
    const write = page.locator('[data-testid="graph-node"][data-node-id="write"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="graph-node"][data-node-id="write"]')?.getAttribute('data-status') === 'running', null, { timeout: 15000 });
    await shot('graph-live');
    // The inspector in a second tab shows the answer as it streams.
    const tab = await context.newPage();
    watch(tab);
    await tab.goto(ui.url + '#/runs/live/nodes/write');
    await tab.waitForFunction(() => (document.querySelector('[data-testid="live-text"]')?.textContent || '').length > 0, null, { timeout: 15000 });
    const partial = await tab.getByTestId('live-text').innerText();
    if (shots) await tab.screenshot({ path: join(shots, 'node-live.png') });
    await tab.close();
    // Back on the graph, without a reload, the node and the run finish.
    await page.waitForFunction(() => document.querySelector('[data-testid="graph-node"][data-node-id="title"]')?.getAttribute('data-status') === 'succeeded', null, { timeout: 30000 });
    assert.equal(await write.getAttribute('data-status'), 'succeeded');
    const { code, err } = await run.done;
    assert.equal(code, 0, err);
    const node = await api('runs/live/nodes/write');
    const answer = node.calls[0].response;
    assert.ok(answer.startsWith(partial.trim()), `streamed text ${JSON.stringify(partial)} begins the answer`);
    assert.ok(partial.trim().length < answer.length, 'the inspector showed the answer while it was still arriving');
    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent?.includes('succeeded'), null, { timeout: 10000 });
  });

  await check("a develop's gate is a dialogue: findings, the change since the last round, earlier rounds, words back to the architect", async () => {
    await open('approvals', 'approvals');
    const gate = page.locator('[data-testid="approval"][data-node="approve"]');
    assert.equal(await gate.count(), 1);
    const dialogue = gate.getByTestId('gate-dialogue');
    await dialogue.getByTestId('gate-findings').waitFor();
    const findings = await dialogue.getByTestId('gate-findings').innerText();
    assert.ok(findings.includes('round 1: fix') && findings.includes('REQ-01-001') && findings.includes('round 2: approve'), findings);
    assert.ok((await dialogue.getByTestId('gate-diff').innerText()).includes('+ ## BR-01-002 Party size'));
    await shot('gate-dialogue');
    await gate.getByTestId('approval-note').fill('Add the example of a bill of 0.01 for 3 people to REQ-01-003');
    await gate.getByTestId('reject').click();
    const answer = page.locator('[data-testid="approval-answer"][data-node="approve"]');
    await answer.waitFor();
    assert.ok((await answer.innerText()).includes('specwright develop'), await answer.innerText());
    // develop runs again: the architect revises with those words, the gate asks again.
    gatedDevelop();
    await open('approvals', 'approvals');
    const again = page.locator('[data-testid="approval"][data-node="approve"]');
    await again.getByTestId('gate-rounds').waitFor();
    const rounds = await again.getByTestId('gate-rounds').innerText();
    assert.ok(rounds.includes('rejected by ui') && rounds.includes('0.01 for 3 people'), rounds);
    const sinceSeen = await again.getByTestId('gate-diff').innerText();
    assert.ok(sinceSeen.includes('0.01 for 3 people') && sinceSeen.includes('the document you last answered'), sinceSeen);
    await again.getByTestId('approve').click();
    await page.locator('[data-testid="approval-answer"][data-node="approve"]').first().waitFor();
  });

  await check('approving a waiting gate continues the run', async () => {
    await open('approvals', 'approvals');
    const item = page.locator('[data-testid="approval"][data-run-id="launch-wait"][data-node="sign_off"]');
    assert.equal(await item.count(), 1);
    await item.getByTestId('approval-note').fill('ship it');
    await shot('approvals');
    await item.getByTestId('approve').click();
    await page.waitForFunction(() => document.body.innerText.includes('resumed'), null, { timeout: 10000 });
    for (let i = 0; i < 200; i++) {
      if ((await api('runs/launch-wait')).status === 'succeeded') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await open('runs/launch-wait', 'graph');
    assert.ok((await page.getByTestId('run-status').innerText()).includes('succeeded'));
    const gate = await api('runs/launch-wait/nodes/sign_off');
    assert.ok(gate.output.includes('ship it'), gate.output);
    assert.equal((await api('approvals')).length, 0);
  });

  await check("a gate waiting in its process (--wait) shows as waiting, and its duration stops", async () => {
    const child = background(store, ['run', launch, '--script', launchScript, '--run-id', 'launch-here', '--wait', '--no-cache'], { cwd: work });
    try {
      let waiting = [];
      for (let i = 0; i < 200 && waiting.length === 0; i++) {
        waiting = (await api('approvals')).filter((a) => a.run_id === 'launch-here');
        if (waiting.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(waiting.length, 1);
      assert.equal((await api('runs/launch-here')).status, 'running', 'the run is stored as running: its process takes the decision');
      await open('runs/launch-here', 'graph');
      await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent?.includes('waiting'), null, { timeout: 10000 });
      const d1 = await page.getByTestId('run-duration').innerText();
      assert.equal(d1, 'waiting');
      const gate = page.locator(`[data-testid="graph-node"][data-node-id="${waiting[0].node}"]`);
      assert.equal(await gate.getAttribute('data-status'), 'waiting');
      const r = await fetch(ui.url + 'api/v1/runs/launch-here/approve', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ node: waiting[0].node, decision: 'approved', text: '' }),
      });
      assert.equal(r.status, 200);
      const { code } = await child.done;
      assert.equal(code, 0);
    } finally {
      child.kill();
    }
  });

  await check('debug shows why a run failed, retries from the node, and resumes it', async () => {
    await open('runs/failing/debug', 'debug');
    const write = page.locator('[data-testid="debug-node"][data-node="write"]');
    assert.equal(await write.getAttribute('data-status'), 'failed');
    assert.ok((await write.getByTestId('debug-error').innerText()).includes('529 overloaded'));
    assert.ok((await write.getByTestId('took-down').innerText()).includes('title'));
    assert.equal(await page.locator('[data-testid="debug-node"][data-node="title"]').getAttribute('data-status'), 'skipped');
    await shot('debug');
    // Retry from the node: a replay that reuses the outline.
    await write.getByTestId('retry-from').click();
    await page.waitForFunction(() => location.hash.startsWith('#/runs/') && !location.hash.startsWith('#/runs/failing'), null, { timeout: 15000 });
    const replayId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
    assert.notEqual(replayId, 'failing');
    assert.equal((await api('runs/' + replayId)).workflow, 'failing', 'a replay of the failing run');
    // Resume: the failed part runs again in the same run, and this time the provider answers.
    await open('runs/failing/debug', 'debug');
    await page.getByTestId('resume').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="resume-said"]')?.textContent?.includes('resumed'), null, { timeout: 15000 });
    let status = '';
    for (let i = 0; i < 200 && status !== 'succeeded'; i++) {
      status = (await api('runs/failing')).status;
      if (status !== 'succeeded') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 'succeeded');
  });

  await check('providers: the configured endpoints without their keys, and each model used with its error rate', async () => {
    await open('providers', 'providers');
    const r = await api('providers');
    assert.equal(await page.getByTestId('provider').count(), r.providers.length);
    assert.ok(r.providers.some((p) => p.name === 'anthropic'), 'anthropic is a built-in provider');
    // Keys, header secrets and a password in an endpoint never reach the page.
    const cfgDir = tempDir('sw-ui-providers-');
    writeFileSync(join(cfgDir, 'specwright.yaml'), `providers:
  proxy:
    api: openai
    base_url: https://bob:PASSWORD3@proxy.example/v1?sig=SIGNATURE4
    api_key: \${PROXY_KEY}
    headers: {X-Team-Token: "\${TEAM_TOKEN}"}
`);
    const secured = await startUi(store, cfgDir, [], { ANTHROPIC_API_KEY: 'sk-ant-SECRET1', PROXY_KEY: 'SECRET2', TEAM_TOKEN: 'SECRET5' });
    try {
      const body = await (await fetch(secured.url + 'api/v1/providers')).text();
      for (const secret of ['SECRET1', 'SECRET2', 'PASSWORD3', 'SIGNATURE4', 'SECRET5']) assert.ok(!body.includes(secret), `${secret} leaked: ${body.slice(0, 300)}`);
      const got = JSON.parse(body).providers;
      assert.equal(got.find((p) => p.name === 'anthropic').key, 'set');
      assert.equal(got.find((p) => p.name === 'proxy').base_url, 'https://proxy.example/v1');
    } finally {
      secured.stop();
    }
    const demo = r.models.find((m) => m.provider === 'scripted' && m.model === 'demo');
    assert.ok(demo && demo.errors >= 1, JSON.stringify(demo));
    const cell = await page.locator('[data-testid="model"][data-model="scripted/demo"] [data-testid="model-errors"]').innerText();
    assert.ok(cell.startsWith(String(demo.errors)), cell);
    await shot('providers');
  });

  await check('eval suites: the history, a report with its failing cases, and the case-by-case comparison', async () => {
    // The real suite, run twice into the store this server reads: with its own script, then
    // with the suite's worse "model" (a changed script), gated against the first as in CI.
    const suite = join(work, 'launch-eval/suite.yaml');
    const evalWorse = join(work, 'launch-eval/script-worse.yaml');
    cli(store, ['eval', suite, '--script', join(work, 'launch-eval/script.yaml'), '--run-id', 'eval-good'], { cwd: work });
    const gated = cli(store, ['eval', suite, '--script', evalWorse, '--run-id', 'eval-worse', '--baseline', 'eval-good'], { cwd: work, ok: [1] });
    const good = await api('evals/eval-good');
    const worse = await api('evals/eval-worse');
    const cmp = await api('evals/compare?a=eval-good&b=eval-worse');
    assert.equal(good.summary.failed + good.summary.errored, 0, 'the suite passes with its own script');
    assert.ok(worse.summary.failed > 0, 'the worse script fails cases');
    const regressed = cmp.cases.filter((c) => c.change === 'regressed').map((c) => c.id).sort();
    assert.ok(regressed.length > 0 && regressed.length < cmp.cases.length, `some cases regressed, not all: ${regressed}`);
    for (const id of regressed) assert.ok(gated.includes(id), `eval --baseline names ${id}: ${gated}`);

    // The runs list links an eval's run to its report.
    await open('runs', 'runs');
    await page.locator('[data-testid="run-row"][data-run-id="eval-good"] [data-testid="run-eval-report"]').click();
    await ready(page, 'eval-report');
    assert.equal(await page.getByTestId('eval-report-pass-rate').innerText(), '100.0%');
    // History: the suite with both runs, newest first, each pass rate as the stored report says.
    await open('evals', 'evals');
    const card = page.locator(`[data-testid="eval-suite"][data-suite="${good.suite.name}"]`);
    assert.equal(await card.count(), 1);
    assert.deepEqual(await card.getByTestId('eval-run').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run'))), ['eval-worse', 'eval-good']);
    for (const r of [good, worse]) {
      const cell = await card.locator(`[data-testid="eval-run"][data-run="${r.run}"] [data-testid="eval-pass-rate"]`).innerText();
      assert.equal(cell, `${(r.summary.pass_rate * 100).toFixed(1)}%`, r.run);
    }
    assert.deepEqual(await card.getByTestId('eval-bar').evaluateAll((bars) => bars.map((b) => b.getAttribute('data-run'))), ['eval-good', 'eval-worse']);
    assert.equal(await card.getByTestId('eval-trend').getAttribute('data-trend'), 'worse');
    await shot('evals');

    // The worse run's report: every case, failing ones open with what their assertions saw.
    await page.evaluate(() => delete document.documentElement.dataset.ready);
    await card.locator('[data-testid="eval-run"][data-run="eval-worse"] a').first().click();
    await ready(page, 'eval-report');
    assert.equal(await page.getByTestId('eval-report-pass-rate').innerText(), `${(worse.summary.pass_rate * 100).toFixed(1)}%`);
    assert.equal(await page.getByTestId('eval-assertion').count(), worse.assertions.length);
    const cases = page.getByTestId('eval-case');
    assert.equal(await cases.count(), worse.cases.length);
    const failing = worse.cases.filter((c) => c.status !== 'passed');
    const shownOrder = await cases.evaluateAll((els) => els.map((e) => [e.getAttribute('data-case'), e.getAttribute('data-status'), e.hasAttribute('open')]));
    // failing first, open; passing after, closed
    assert.deepEqual(shownOrder.slice(0, failing.length).map((x) => x[2]), failing.map(() => true));
    assert.deepEqual(shownOrder.slice(failing.length).map((x) => x[1]), worse.cases.filter((c) => c.status === 'passed').map(() => 'passed'));
    assert.deepEqual(new Set(shownOrder.slice(0, failing.length).map((x) => x[0])), new Set(failing.map((c) => c.id)));
    const one = failing[0];
    const bad = one.assertions.find((a) => (a.status ?? (a.passed ? 'passed' : 'failed')) !== 'passed');
    const shownCase = page.locator(`[data-testid="eval-case"][data-case="${one.id}"]`);
    const shownAssert = shownCase.locator(`[data-testid="eval-case-assertion"][data-assertion="${bad.id}"]`);
    assert.equal(await shownAssert.count(), 1);
    assert.notEqual(await shownAssert.getAttribute('data-status'), 'passed');
    if (bad.message) assert.ok((await shownAssert.innerText()).includes(bad.message.split('\n')[0]), await shownAssert.innerText());
    if (typeof bad.actual === 'string' && bad.actual) {
      assert.ok((await shownAssert.getByTestId('eval-actual').innerText()).includes(bad.actual.split('\n')[0].trim()));
    }
    // the filter narrows to the failing cases
    await page.getByTestId('eval-case-filter').selectOption('failing');
    assert.equal(await cases.count(), failing.length);
    await page.getByTestId('eval-case-filter').selectOption('');
    await shot('eval-report');

    // The comparison, from the report: the verdict, the deltas, and case by case what changed.
    await page.evaluate(() => delete document.documentElement.dataset.ready);
    await page.getByTestId('eval-compare-previous').click();
    await ready(page, 'eval-compare');
    assert.ok(page.url().includes('a=eval-good') && page.url().includes('b=eval-worse'), page.url());
    assert.equal(cmp.verdict, 'regression');
    assert.equal(await page.getByTestId('eval-verdict').getAttribute('data-verdict'), 'regression');
    const rate = page.locator('[data-testid="eval-delta"][data-metric="pass-rate"]');
    assert.equal(await rate.getAttribute('data-direction'), 'worse');
    assert.equal(await rate.getByTestId('eval-delta-change').innerText(), `−${Math.abs(cmp.pass_rate.delta * 100).toFixed(1)} pp`);
    const rows = page.getByTestId('eval-compare-case');
    assert.equal(await rows.count(), cmp.cases.length);
    const shownRegressed = await page.locator('[data-testid="eval-compare-case"][data-change="regressed"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-case')));
    assert.deepEqual([...shownRegressed].sort(), regressed);
    // regressed rows come first
    const allRows = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-change')));
    assert.deepEqual(allRows.slice(0, regressed.length), regressed.map(() => 'regressed'));
    assert.equal(await page.locator('[data-testid="eval-change-count"][data-change="regressed"]').getAttribute('data-count'), String(regressed.length));
    // each regressed case names the assertions that went from passed to failed
    for (const c of cmp.cases.filter((x) => x.change === 'regressed')) {
      const ok = (v) => v === 'passed' || v === true;
      const flipped = c.assertions.filter((a) => ok(a.a) && a.b !== null && !ok(a.b)).map((a) => a.id).sort();
      assert.ok(flipped.length > 0 || c.b === 'error', `${c.id} regressed by an assertion: ${JSON.stringify(c)}`);
      const shownFlipped = await page
        .locator(`[data-testid="eval-compare-case"][data-case="${c.id}"] [data-testid="eval-assertion-change"][data-change="regressed"]`)
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-assertion')));
      assert.deepEqual([...shownFlipped].sort(), flipped, c.id);
    }
    await shot('eval-compare');
    // Swapped, the same cases are fixed.
    await page.evaluate(() => delete document.documentElement.dataset.ready);
    await page.getByTestId('eval-swap').click();
    await ready(page, 'eval-compare');
    assert.ok(page.url().includes('a=eval-worse') && page.url().includes('b=eval-good'), page.url());
    const fixed = await page.locator('[data-testid="eval-compare-case"][data-change="fixed"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-case')));
    assert.deepEqual([...fixed].sort(), regressed);
    // Picked against itself with the picker: every case the same, verdict ok.
    await page.evaluate(() => delete document.documentElement.dataset.ready);
    await page.getByTestId('eval-pick-A').selectOption('eval-good');
    await ready(page, 'eval-compare');
    assert.equal(await page.getByTestId('eval-verdict').getAttribute('data-verdict'), 'ok');
    assert.deepEqual(new Set(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-change')))), new Set(['same']));
  });

  await check('dark theme renders every main page', async () => {
    await open('runs', 'runs');
    const before = await page.evaluate(() => document.documentElement.dataset.theme || document.documentElement.className);
    await page.getByTestId('theme-toggle').click();
    const after = await page.evaluate(() => document.documentElement.dataset.theme || document.documentElement.className);
    assert.notEqual(after, before);
    await shot('runs-dark');
    await open('runs/launch-ok', 'graph');
    await shot('graph-dark');
    await open('runs/launch-ok/nodes/draft', 'node');
    await shot('node-dark');
    await page.getByTestId('theme-toggle').click();
  });

  await check('with a token, the page opened from the printed URL works and the API needs it', async () => {
    const secured = await startUi(store, work, ['--token', 'e2e-token-123']);
    try {
      assert.ok(secured.url.endsWith('?token=e2e-token-123'), secured.url);
      assert.equal((await fetch(secured.url.replace(/\?.*/, '') + 'api/v1/runs')).status, 401);
      await page.goto(secured.url);
      await ready(page, 'runs');
      assert.ok((await page.getByTestId('run-row').count()) > 0);
      assert.ok(!page.url().includes('token='), 'the token left the address bar');
      await page.goto(secured.url.replace(/\?.*/, '') + '#/runs/launch-ok');  // later pages use the kept token
      await ready(page, 'graph');
    } finally {
      secured.stop();
    }
  });

  await check('no console errors on any page', async () => {
    assert.deepEqual(problems, []);
  });
} finally {
  await browser.close();
  ui.stop();
  fake.stop();
}

if (failures.length) {
  console.log(`\n${failures.length} check(s) failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('\nall browser checks passed');
