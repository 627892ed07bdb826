#!/usr/bin/env node
// A tiny MCP server over stdio for Keel's tests: the cases the reference servers do not
// show on demand (pagination, crashes, hangs, odd versions, server-to-client requests,
// what environment it was given). No dependencies.
//   --pages N         split tools/list into N pages
//   --version V       answer initialize with protocol version V (default: the client's)
//   --exit-at-start   print to stderr and exit 7 before reading anything
//   --refuse-init     answer initialize with a JSON-RPC error
//   --junk            print a line that is not JSON-RPC on stdout first
import readline from 'node:readline';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};

if (flag('--exit-at-start')) {
  process.stderr.write('fake server: missing configuration file\n');
  process.exit(7);
}

const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const text = (t) => ({ content: [{ type: 'text', text: t }] });
const object = (properties = {}, required = []) => ({ type: 'object', properties, required });

const tools = [
  { name: 'echo', description: 'Echoes the message.', inputSchema: object({ message: { type: 'string' } }, ['message']),
    annotations: { readOnlyHint: true, idempotentHint: true, title: 'Echo' } },
  { name: 'env', description: 'Reports the environment the server was started with.', inputSchema: object(),
    annotations: { readOnlyHint: true } },
  { name: 'meta', description: 'Reports the _meta of the call.', inputSchema: object() },
  { name: 'crash', description: 'Exits with status 3.', inputSchema: object(),
    annotations: { destructiveHint: true } },
  { name: 'hang', description: 'Never answers.', inputSchema: object() },
  { name: 'cancellations', description: 'The request ids the client cancelled.', inputSchema: object() },
  { name: 'rpc_error', description: 'Answers with a JSON-RPC error.', inputSchema: object() },
  { name: 'tool_error', description: 'Answers with isError.', inputSchema: object() },
  { name: 'ask_client', description: 'Sends the client a ping and a sampling request.', inputSchema: object() },
];

const pages = Number(option('--pages', '1'));
const perPage = Math.ceil(tools.length / pages);
const cancelled = [];
const pending = new Map();  // our requests to the client: id -> callback
let nextId = 1000;

function ask(method, params) {
  return new Promise((resolve) => {
    const id = nextId++;
    pending.set(id, resolve);
    send({ jsonrpc: '2.0', id, method, params });
  });
}

async function callTool(id, name, params) {
  switch (name) {
    case 'echo':
      return send({ jsonrpc: '2.0', id, result: text('Echo: ' + params.arguments.message) });
    case 'env':
      return send({ jsonrpc: '2.0', id, result: { ...text(JSON.stringify(process.env)), structuredContent: { ...process.env } } });
    case 'meta':
      return send({ jsonrpc: '2.0', id, result: { ...text('meta'), structuredContent: params._meta ?? {} } });
    case 'crash':
      process.stderr.write('fake server: crashing on request\n');
      process.exit(3);
    case 'hang':
      return;
    case 'cancellations':
      return send({ jsonrpc: '2.0', id, result: { ...text(JSON.stringify(cancelled)), structuredContent: { cancelled } } });
    case 'rpc_error':
      return send({ jsonrpc: '2.0', id, error: { code: -32603, message: 'internal failure' } });
    case 'tool_error':
      return send({ jsonrpc: '2.0', id, result: { ...text('it went wrong'), isError: true } });
    case 'ask_client': {
      const ping = await ask('ping');
      const sampling = await ask('sampling/createMessage', { messages: [], maxTokens: 1 });
      return send({ jsonrpc: '2.0', id, result: { ...text('asked'), structuredContent: { ping, sampling } } });
    }
    default:
      return send({ jsonrpc: '2.0', id, error: { code: -32602, message: 'Unknown tool: ' + name } });
  }
}

function handle(m) {
  if (m.id !== undefined && m.method === undefined) {  // a reply to ask()
    const resolve = pending.get(m.id);
    pending.delete(m.id);
    if (resolve) resolve(m);
    return;
  }
  switch (m.method) {
    case 'initialize':
      if (flag('--refuse-init')) return send({ jsonrpc: '2.0', id: m.id, error: { code: -32600, message: 'not today' } });
      return send({ jsonrpc: '2.0', id: m.id, result: {
        protocolVersion: option('--version', m.params.protocolVersion),
        capabilities: { tools: {} },
        serverInfo: { name: 'fake', version: '1.0.0' },
        instructions: 'Use echo to test.' } });
    case 'notifications/initialized':
      return;
    case 'notifications/cancelled':
      cancelled.push(m.params.requestId);
      return;
    case 'tools/list': {
      const page = m.params?.cursor ? Number(m.params.cursor) : 0;
      const result = { tools: tools.slice(page * perPage, (page + 1) * perPage) };
      if ((page + 1) * perPage < tools.length) result.nextCursor = String(page + 1);
      return send({ jsonrpc: '2.0', id: m.id, result });
    }
    case 'tools/call':
      return callTool(m.id, m.params.name, m.params);
    default:
      if (m.id !== undefined) send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } });
  }
}

if (flag('--junk')) process.stdout.write('fake server starting (this line is not JSON-RPC)\n');
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => { if (line.trim()) handle(JSON.parse(line)); });
lines.on('close', () => process.exit(0));
