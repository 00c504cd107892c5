// A deliberately small stdio MCP server for the client's edge cases that the npm reference
// servers never show: tools/list in pages (nextCursor), a server-to-client ping before an
// answer, a version the client does not speak (PAGED_VERSION), and an exit mid-call.
import readline from "node:readline";

const version = process.env.PAGED_VERSION || null;
const tools = Array.from({ length: 5 }, (_, i) => ({
  name: `tool_${i}`,
  description: `tool number ${i}`,
  inputSchema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
}));
let nextId = 1000;
const waiting = new Map();
const send = (m) => process.stdout.write(JSON.stringify(m) + "\n");

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const m = JSON.parse(line);
  if (m.id !== undefined && !m.method) {
    const cb = waiting.get(m.id);
    waiting.delete(m.id);
    if (cb) cb(m);
    return;
  }
  if (m.id === undefined) return;
  const reply = (result) => send({ jsonrpc: "2.0", id: m.id, result });
  switch (m.method) {
    case "initialize":
      return reply({
        protocolVersion: version || m.params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: "paged", version: "1" },
      });
    case "tools/list": {
      const start = m.params && m.params.cursor ? Number(m.params.cursor) : 0;
      const page = tools.slice(start, start + 2);
      const res = { tools: page };
      if (start + 2 < tools.length) res.nextCursor = String(start + 2);
      return reply(res);
    }
    case "tools/call": {
      const { name, arguments: args } = m.params;
      if (name === "exit_now") process.exit(3);
      // Ask the client something first; answer once it has replied.
      const pid = nextId++;
      waiting.set(pid, (pong) =>
        reply({
          content: [{ type: "text", text: `${name}(${args.n}) after ping ${pong.result ? "ok" : "failed"}` }],
          structuredContent: { name, n: args.n, doubled: args.n * 2 },
        }),
      );
      return send({ jsonrpc: "2.0", id: pid, method: "ping" });
    }
    default:
      return send({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: `no method ${m.method}` } });
  }
});
