/**
 * The editor's admin routes (/mimoe/check, /mimoe/resources/:kind) against a real Node-RED, with
 * admin authentication (an editor and a read-only user) and without it (Node-RED's default).
 * A recording listener on 127.0.0.1 stands for an attacker's server and for an internal service:
 * it keeps every request it receives, and no attack of issue 12 may bring it a stored secret in
 * any form (the config's key, another node's token, a key file's key, an environment variable).
 * The legitimate uses keep working: Test connection with the stored key at the deployed URL, a
 * freshly typed key at any URL, ${VAR} and key files as deployed, autocomplete lists.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageTar } from '../../src/wire/image-tar';
import { McmClient } from '../../src/mcm/client';
import { listenOnLoopback } from '../support/loopback-server';
import { useSimulator } from '../support/simulator-fixture';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require('../../../scripts/node-red-launcher.js') as typeof import('../../scripts/node-red-launcher');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bcrypt = require('bcryptjs') as { hashSync(text: string, rounds: number): string };

const PLACEHOLDER = '__PWRD__';
/** The client's internal operation names, which no message of the routes shows. */
const OPERATION_NAMES = /checkConnection|listImages|listMims|discoverMembers|failed:/;
/** Secrets with characters that JSON, URL and base64 encodings all change. */
const BOT_TOKEN = 'bot-token/+=Zq1';
const ENV_SECRET = 'env-secret/+=Zq2';
const OTHER_FILE_KEY = 'other-file-key/+=Zq3';
/** What the recording listener serves: markers that must never come back through the routes. */
const INTERNAL_PAGE = `<html><body>INTERNAL-PAGE ${'internal '.repeat(40)}</body></html>`;
const FOREIGN_PAGE = `<html><body>FOREIGN-PAGE ${'x'.repeat(1200)}</body></html>`;
/** Plain-text answers by path prefix (most specific first): only an error's first line, without markup, may come back. */
const PLAIN_ANSWERS: Array<{ prefix: string; status: number; body: (req: http.IncomingMessage) => string }> = [
  { prefix: '/plain-ok', status: 200, body: () => 'PLAIN-OK-BODY of an internal service' },
  { prefix: '/plain-markup', status: 404, body: () => '<h1>MARKUP-IN-PLAIN</h1>' },
  { prefix: '/plain-echo', status: 403, body: (req) => `denied: ${req.headers.authorization ?? ''}\nPLAIN-SECOND-LINE` },
  { prefix: '/plain', status: 404, body: () => '404 page not found\nPLAIN-SECOND-LINE' },
];

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP server on 127.0.0.1 that records every request (CONNECT included) and answers HTML or plain text. */
async function startRecorder(): Promise<{ url: string; requests: Recorded[]; stop(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('latin1') });
      const plain = PLAIN_ANSWERS.find((answer) => (req.url ?? '').startsWith(answer.prefix));
      if (plain) {
        res.writeHead(plain.status, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(plain.body(req));
        return;
      }
      if ((req.url ?? '').startsWith('/json-error')) {
        // A JSON error in a shape the client recognises, from a service that is not MCM.
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', message: `JSON-FIRST-LINE ${'y'.repeat(200)}\nJSON-SECOND-LINE` }));
        return;
      }
      const internal = (req.url ?? '').startsWith('/internal');
      res.writeHead(internal ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(internal ? INTERNAL_PAGE : FOREIGN_PAGE);
    });
  });
  server.on('connect', (req, socket) => {
    requests.push({ method: 'CONNECT', url: req.url ?? '', headers: req.headers, body: '' });
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  return {
    url: await listenOnLoopback(server),
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A text and what it decodes to: URL-encoding, JSON escapes and every base64-looking run. */
function decodings(text: string): string[] {
  const all = [text];
  try {
    all.push(decodeURIComponent(text.replace(/\+/g, ' ')), decodeURIComponent(text));
  } catch {
    // Not URL-encoded.
  }
  all.push(text.replace(/\\\//g, '/'));
  for (const run of text.match(/[A-Za-z0-9+/_-]{8,}={0,2}/g) ?? []) all.push(Buffer.from(run, 'base64').toString('latin1'));
  return all;
}

/** The names of the secrets that appear in a text, raw or encoded. */
function secretsIn(text: string, secrets: Record<string, string>): string[] {
  const seen = decodings(text);
  return Object.entries(secrets)
    .filter(([, secret]) => seen.some((t) => t.includes(secret)))
    .map(([name]) => name);
}

function writeKeyFile(path: string, key: string): void {
  writeFileSync(path, `# written by the test\nMCM_API_KEY=${key}\n`, { mode: 0o600 });
}

/** A node type with a `token` credential, like a chat bot's, loaded from the user directory. */
function writeChatBotNode(userDir: string): void {
  const dir = join(userDir, 'nodes');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'chat-bot.js'),
    `module.exports = function (RED) {
  function ChatBot(config) { RED.nodes.createNode(this, config); }
  RED.nodes.registerType('chat-bot', ChatBot, { credentials: { token: { type: 'password' } } });
};
`,
  );
  writeFileSync(
    join(dir, 'chat-bot.html'),
    `<script type="text/javascript">
RED.nodes.registerType('chat-bot', { category: 'function', defaults: {}, credentials: { token: { type: 'password' } }, inputs: 1, outputs: 0 });
</script>
<script type="text/html" data-template-name="chat-bot"><input type="password" id="node-input-token"></script>
`,
  );
}

describe('the editor admin routes in a real Node-RED', function () {
  this.timeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'mimoe-admin-'));
  const keyFile = join(dir, 'runtime', 'mimoe-api-key.env');
  const sim = useSimulator();
  /** A runtime whose key only its key file holds. */
  const fileSim = useSimulator(() => {
    mkdirSync(join(dir, 'runtime'));
    return { keyFile };
  });
  let trap: Awaited<ReturnType<typeof startRecorder>>;
  const otherKeyFile = join(dir, 'elsewhere', 'mimoe-api-key.env');
  /** Node-RED's HOME: its default key file (~/.mimoe/mimoe-api-key.env) holds the stored key. */
  const home = join(dir, 'home');
  /** Every answer of the routes, checked for secrets at the end of each test. */
  const answers: string[] = [];
  let secrets: Record<string, string>;

  before(async () => {
    mkdirSync(join(dir, 'elsewhere'));
    mkdirSync(join(home, '.mimoe'), { recursive: true });
    trap = await startRecorder();
    writeKeyFile(otherKeyFile, OTHER_FILE_KEY);
    writeKeyFile(join(home, '.mimoe', 'mimoe-api-key.env'), sim().key);
    secrets = {
      'stored key': sim().key,
      'key file key': fileSim().key,
      'bot token': BOT_TOKEN,
      'environment secret': ENV_SECRET,
      'other key file': OTHER_FILE_KEY,
    };
  });
  after(async () => {
    await trap?.stop();
  });
  beforeEach(async () => {
    const client = new McmClient({ url: sim().url, token: sim().key });
    await client.uploadImage(buildImageTar({ name: 'hello-v1' }));
    client.close();
    sim().resetStats();
  });

  /** The deployed flow: config nodes of every kind, a node of another type with a token, a proxy, a TLS config. */
  const flow = () => [
    { id: 'tab1', type: 'tab', label: 'secrets' },
    { id: 'cfg1', type: 'mimoe-config', name: 'device', url: sim().url, tokenSource: 'credential', credentials: { token: sim().key } },
    {
      id: 'cfgEnv',
      type: 'mimoe-config',
      url: '${MIMOE_TEST_URL}',
      clientId: '${MIMOE_TEST_CLIENT}',
      tokenSource: 'credential',
      credentials: { token: '${MIMOE_TEST_KEY}' },
    },
    { id: 'cfgFile', type: 'mimoe-config', url: fileSim().url, tokenSource: 'file', keyFile },
    { id: 'cfgDefault', type: 'mimoe-config', url: sim().url, tokenSource: 'file', keyFile: '' },
    { id: 'proxy1', type: 'http proxy', url: trap.url, noproxy: [] },
    { id: 'tls1', type: 'tls-config', verifyservercert: true },
    { id: 'bot1', type: 'chat-bot', z: 'tab1', x: 100, y: 200, wires: [], credentials: { token: BOT_TOKEN } },
    { id: 'list1', type: 'mimoe-list', z: 'tab1', server: 'cfg1', resource: 'mim', x: 100, y: 100, wires: [[]] },
  ];

  /** Starts Node-RED with the flow deployed; `extra` adds settings (adminAuth). */
  async function startNodeRed(name: string, extra = '') {
    const userDir = join(dir, name);
    launcher.linkPackage(userDir);
    writeChatBotNode(userDir);
    const settings = launcher.writeSettings(userDir, { port: 0, extra: `credentialSecret: 'a-test-secret', ${extra}` });
    const env = {
      ...process.env,
      HOME: home,
      MIMOE_TEST_URL: sim().url,
      MIMOE_TEST_KEY: sim().key,
      MIMOE_TEST_CLIENT: 'api',
      MIMOE_SECRET_VAR: ENV_SECRET,
    };
    return { userDir, red: await launcher.startNodeRed({ userDir, settings, env }) };
  }

  /** Nothing the recorder received, and nothing the routes answered, holds a stored secret. */
  function assertNoSecretLeft(): void {
    for (const r of trap.requests) {
      const text = `${r.method} ${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`;
      assert.deepEqual(secretsIn(text, secrets), [], `the recorder received a secret: ${text.slice(0, 300)}`);
    }
    for (const answer of answers) assert.deepEqual(secretsIn(answer, secrets), [], `a route answered a secret: ${answer}`);
  }

  /**
   * The attacks of issue 12 that must be refused before anything is sent: a stored key to a
   * posted destination, a posted key file, posted ${VAR}s. Each answers ok:false with the reason.
   */
  function refusedAttacks(): Array<{ what: string; body: object; reason: RegExp }> {
    const typeKeyAgain = /type the key again/;
    const deployFirst = /deploy first/i;
    const env = /holds a \$\{…\} reference/;
    return [
      {
        what: 'the stored key to a posted URL',
        body: { id: 'cfg1', settings: { url: trap.url }, token: PLACEHOLDER },
        reason: typeKeyAgain,
      },
      {
        what: 'the stored key to a URL ending in # that reads another path',
        body: { id: 'cfg1', settings: { url: `${trap.url}/internal/secret#` }, token: PLACEHOLDER },
        reason: typeKeyAgain,
      },
      {
        what: 'the stored key through a posted proxy',
        body: { id: 'cfg1', settings: { url: sim().url, proxy: 'proxy1' }, token: PLACEHOLDER },
        reason: typeKeyAgain,
      },
      {
        what: 'the stored key with a posted TLS config',
        body: { id: 'cfg1', settings: { url: sim().url, tls: 'tls1' }, token: PLACEHOLDER },
        reason: typeKeyAgain,
      },
      {
        what: 'the stored key without certificate checks',
        body: { id: 'cfg1', settings: { url: sim().url, insecure: true }, token: PLACEHOLDER },
        reason: typeKeyAgain,
      },
      {
        what: 'the deployed key file to a posted URL',
        body: { id: 'cfgFile', settings: { url: trap.url, tokenSource: 'file', keyFile }, token: PLACEHOLDER },
        reason: typeKeyAgain,
      },
      {
        what: 'a posted key file path',
        body: { settings: { url: trap.url, tokenSource: 'file', keyFile: otherKeyFile } },
        reason: deployFirst,
      },
      {
        what: 'a posted key file path with a deployed config id',
        body: { id: 'cfgFile', settings: { url: fileSim().url, tokenSource: 'file', keyFile: otherKeyFile } },
        reason: deployFirst,
      },
      {
        what: 'the default key file for a config that reads another path',
        body: { id: 'cfgFile', settings: { url: fileSim().url, tokenSource: 'file', keyFile: '' } },
        reason: deployFirst,
      },
      {
        what: 'the default key file for a config that does not read a key file',
        body: { id: 'cfg1', settings: { url: sim().url, tokenSource: 'file' } },
        reason: deployFirst,
      },
      {
        what: 'the default key file for an id of another node type',
        body: { id: 'bot1', settings: { url: trap.url, tokenSource: 'file' } },
        reason: deployFirst,
      },
      {
        what: 'a process variable as the key',
        body: { settings: { url: trap.url }, token: '${MIMOE_SECRET_VAR}' },
        reason: env,
      },
      {
        what: 'a process variable in the URL',
        body: { settings: { url: `${trap.url}/\${MIMOE_SECRET_VAR}` }, token: 'typed-key' },
        reason: env,
      },
      {
        what: 'a process variable as the client id',
        body: { settings: { url: trap.url, clientId: '${MIMOE_SECRET_VAR}' }, token: 'typed-key' },
        reason: env,
      },
      {
        what: 'the deployed ${VAR} key, typed as deployed, to a posted URL',
        body: { id: 'cfgEnv', settings: { url: trap.url }, token: '${MIMOE_TEST_KEY}' },
        reason: env,
      },
      {
        what: 'the deployed ${VAR} client id to a posted URL',
        body: { id: 'cfgEnv', settings: { url: trap.url, clientId: '${MIMOE_TEST_CLIENT}' }, token: 'typed-key' },
        reason: env,
      },
      {
        what: 'the stored key of a deployed ${VAR} URL to a posted URL',
        body: { id: 'cfgEnv', settings: { url: trap.url }, token: PLACEHOLDER },
        reason: typeKeyAgain,
      },
    ];
  }

  describe('with admin authentication: an editor user and a read-only user', () => {
    let red: import('../../scripts/node-red-launcher').RunningNodeRed;
    let userDir: string;
    const tokens: Record<string, string> = {};

    const api = async (path: string, body: unknown, user: string | null = 'editor', headers: Record<string, string> = {}) => {
      const res = await fetch(`${red.url}${path}`, {
        method: 'POST',
        body: typeof body === 'string' || body instanceof FormData ? body : JSON.stringify(body),
        headers: {
          ...(typeof body === 'string' || body instanceof FormData ? {} : { 'Content-Type': 'application/json' }),
          ...(user ? { Authorization: `Bearer ${tokens[user]}` } : {}),
          ...headers,
        },
      });
      const text = await res.text();
      answers.push(text);
      const json = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
      // The dialog shows the message as it is: in the user's words, not the client's operation names.
      assert.doesNotMatch(json?.message ?? '', OPERATION_NAMES, text);
      return { status: res.status, text, json };
    };

    before(async () => {
      const hash = bcrypt.hashSync('test-password', 8);
      const users = `[{ username: 'editor', password: '${hash}', permissions: '*' }, { username: 'reader', password: '${hash}', permissions: 'read' }]`;
      ({ red, userDir } = await startNodeRed('with-auth', `adminAuth: { type: 'credentials', users: ${users} },`));
      for (const [user, scope] of [
        ['editor', '*'],
        ['reader', 'read'],
      ]) {
        const res = await fetch(`${red.url}/auth/token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope, username: user, password: 'test-password' }),
        });
        assert.equal(res.status, 200, `a token for ${user}`);
        tokens[user] = ((await res.json()) as { access_token: string }).access_token;
      }
      const deployed = await fetch(`${red.url}/flows`, {
        method: 'POST',
        body: JSON.stringify(flow()),
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tokens.editor}`, 'Node-RED-Deployment-Type': 'full' },
      });
      assert.equal(deployed.status, 204, await deployed.text());
    });
    after(async () => {
      await red?.stop();
    });
    beforeEach(() => {
      trap.requests.length = 0;
      answers.length = 0;
    });
    afterEach(function () {
      if (this.currentTest?.state === 'failed') console.log(`--- Node-RED log\n${red?.log().slice(-3000)}`);
    });

    it('loads every node type of the package, enabled, beside the chat bot', async () => {
      const res = await fetch(`${red.url}/nodes`, { headers: { Accept: 'application/json', Authorization: `Bearer ${tokens.editor}` } });
      const sets = (await res.json()) as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
      const ours = sets.filter((s) => s.module === launcher.packageName);
      assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...launcher.nodeTypes].sort());
      assert.ok(ours.every((s) => s.enabled && !s.err));
      assert.ok(
        sets.some((s) => s.types.includes('chat-bot') && s.enabled && !s.err),
        'the chat bot node type is loaded',
      );
    });

    it('refuses anonymous and read-only users', async () => {
      for (const path of ['/mimoe/check', '/mimoe/resources/images', '/mimoe/resources/mims']) {
        for (const user of [null, 'reader']) {
          const res = await api(path, { id: 'cfg1', settings: { url: sim().url }, token: PLACEHOLDER }, user);
          assert.equal(res.status, 401, `${path} as ${user ?? 'anonymous'}`);
        }
      }
      assert.equal(sim().log.length, 0, 'no refused call reached the runtime');
    });

    it('stores the key as a credential and never exports it', async () => {
      const exported = await (await fetch(`${red.url}/flows`, { headers: { Authorization: `Bearer ${tokens.editor}` } })).text();
      assert.ok(exported.includes('cfg1'));
      assert.deepEqual(secretsIn(exported, secrets), [], 'the exported flow holds a secret');
      const onDisk = readFileSync(join(userDir, 'flows.json'), 'utf8') + readFileSync(join(userDir, 'flows_cred.json'), 'utf8');
      assert.deepEqual(secretsIn(onDisk, { 'stored key': sim().key, 'bot token': BOT_TOKEN }), [], 'the credentials are stored encrypted');
      const creds = (await (
        await fetch(`${red.url}/credentials/mimoe-config/cfg1`, { headers: { Authorization: `Bearer ${tokens.editor}` } })
      ).json()) as Record<string, unknown>;
      assert.deepEqual(creds, { has_token: true });
      assert.deepEqual(secretsIn(red.log(), secrets), [], 'the log holds a secret');
    });

    it('tests a connection with the stored key at the deployed URL, and a typed key at any URL', async () => {
      const saved = await api('/mimoe/check', {
        id: 'cfg1',
        settings: { url: sim().url, clientId: 'api', timeout: 5 },
        token: PLACEHOLDER,
      });
      assert.deepEqual(saved.json, { ok: true, url: sim().url, mims: 0 });
      const typed = await api('/mimoe/check', { settings: { url: sim().url.replace('127.0.0.1', 'localhost') }, token: sim().key });
      assert.equal(typed.json.ok, true, typed.text);
      const wrong = await api('/mimoe/check', { settings: { url: sim().url }, token: 'wrong-key' });
      assert.equal(wrong.json.ok, false);
      assert.equal(wrong.json.status, 403);
      assert.match(wrong.json.message, /^the runtime refused the API key: check the key or the key file \(it answered HTTP 403 .*\)$/);
      for (const url of ['', '   ']) {
        const blank = await api('/mimoe/check', { settings: { url }, token: 'x' });
        assert.equal(blank.json.code, 'MCM_CONFIG', blank.text);
        assert.equal(blank.json.message, 'the mimOE server config cannot be used: the runtime URL is required, e.g. http://127.0.0.1:8083');
      }
      const withPassword = await api('/mimoe/check', { settings: { url: 'http://alice:s3cret-word@127.0.0.1:1' }, token: 'x' });
      assert.equal(withPassword.json.code, 'MCM_CONFIG', withPassword.text);
      assert.match(withPassword.json.message, /^the mimOE server config cannot be used: /);
      assert.ok(!withPassword.text.includes('s3cret-word'), 'the password in the URL is not echoed');
      assertNoSecretLeft();
    });

    it('reads ${VAR} and key files as deployed: the deployed URL with the key it names', async () => {
      const env = await api('/mimoe/check', {
        id: 'cfgEnv',
        settings: { url: '${MIMOE_TEST_URL}', clientId: '${MIMOE_TEST_CLIENT}' },
        token: PLACEHOLDER,
      });
      assert.deepEqual(env.json, { ok: true, url: sim().url, mims: 0 });
      const typedAsDeployed = await api('/mimoe/check', {
        id: 'cfgEnv',
        settings: { url: '${MIMOE_TEST_URL}', clientId: '${MIMOE_TEST_CLIENT}' },
        token: '${MIMOE_TEST_KEY}',
      });
      assert.equal(typedAsDeployed.json.ok, true, typedAsDeployed.text);
      const file = await api('/mimoe/check', { id: 'cfgFile', settings: { url: fileSim().url, tokenSource: 'file', keyFile } });
      assert.deepEqual(file.json, { ok: true, url: fileSim().url, mims: 0 });
      const defaultFile = await api('/mimoe/check', { id: 'cfgDefault', settings: { url: sim().url, tokenSource: 'file', keyFile: '' } });
      assert.deepEqual(defaultFile.json, { ok: true, url: sim().url, mims: 0 });
      assertNoSecretLeft();
    });

    it('lists live resources for autocomplete', async () => {
      const images = await api('/mimoe/resources/images', { id: 'cfg1', settings: { url: sim().url }, token: PLACEHOLDER });
      assert.equal(images.json.ok, true, images.text);
      assert.deepEqual(
        images.json.items.map((i: { value: string }) => i.value),
        ['hello-v1'],
      );
      const mims = await api('/mimoe/resources/mims', { id: 'cfg1', settings: { url: sim().url }, token: PLACEHOLDER });
      assert.deepEqual(mims.json, { ok: true, items: [] });
      assertNoSecretLeft();
    });

    it('sends no stored key to a posted destination, key file or ${VAR}: each is refused before any request', async () => {
      for (const attack of refusedAttacks()) {
        for (const path of ['/mimoe/check', '/mimoe/resources/mims']) {
          const res = await api(path, attack.body);
          assert.equal(res.status, 200, `${attack.what}: ${res.text}`);
          assert.equal(res.json.ok, false, `${attack.what} was refused`);
          assert.match(res.json.message, attack.reason, attack.what);
        }
      }
      assert.deepEqual(trap.requests, [], 'the recorder received nothing');
      assert.equal(sim().log.length + fileSim().log.length, 0, 'no runtime was asked');
      assertNoSecretLeft();
    });

    it("never reads another node type's token", async () => {
      for (const body of [
        { id: 'bot1', settings: { url: trap.url }, token: PLACEHOLDER },
        { id: 'bot1', settings: { url: trap.url, tokenSource: 'credential' } },
        { id: 'bot1', settings: { url: trap.url, clientId: 'api' }, token: PLACEHOLDER },
      ]) {
        const res = await api('/mimoe/check', body);
        assert.equal(res.json.ok, false, res.text);
        assert.match(res.json.message, /^no API key or token is set/, 'it has no key to send');
      }
      assert.deepEqual(trap.requests, [], 'nothing went out: a call without a key is refused before it leaves');
      assertNoSecretLeft();
    });

    it('names a server that is not MCM as such, by status and type, with at most the first line of a plain-text error', async () => {
      const notMcm = 'the server answers, but is not a mimOE Compute Manager';
      const check = (url: string, token = 'typed-key') => api('/mimoe/check', { settings: { url }, token });
      const foreign = await check(trap.url);
      assert.equal(foreign.json.ok, false);
      assert.equal(foreign.json.message, `${notMcm}: HTTP 404, text/html`);
      const listed = await api('/mimoe/resources/images', { settings: { url: trap.url }, token: 'typed-key' });
      assert.equal(listed.json.message, `${notMcm}: HTTP 404, text/html`);
      const plain = await check(`${trap.url}/plain`);
      assert.equal(plain.json.message, `${notMcm}: HTTP 404, text/plain: 404 page not found`);
      const plainOk = await check(`${trap.url}/plain-ok`);
      assert.equal(plainOk.json.message, `${notMcm}: HTTP 200, text/plain`, 'a 2xx body is never shown');
      const markup = await check(`${trap.url}/plain-markup`);
      assert.equal(markup.json.message, `${notMcm}: HTTP 404, text/plain`, 'markup is never shown');
      const json = await check(`${trap.url}/json-error`);
      assert.match(json.json.message, /HTTP 404 JSON-FIRST-LINE y+…$/, 'a JSON error shows its first line, cut short');
      assert.doesNotMatch(json.text, /JSON-SECOND-LINE|y{120}/, 'no more of a JSON error comes back');
      const typedKey = 'typed-key/+=Zq4-long-enough';
      const echo = await check(`${trap.url}/plain-echo`, typedKey);
      assert.match(
        echo.json.message,
        /^the runtime refused the API key: check the key or the key file \(it answered HTTP 403, text\/plain: denied: Bearer [^\s)]+\)$/,
      );
      assert.deepEqual(secretsIn(echo.text, { 'typed key': typedKey }), [], 'the echoed key is redacted');
      // A URL ending in # once read another path of an internal service: the client refuses it now.
      const internal = await check(`${trap.url}/internal/secret#`);
      assert.equal(internal.json.ok, false);
      for (const answer of [foreign, listed, plain, plainOk, markup, json, echo, internal]) {
        assert.doesNotMatch(
          answer.text,
          /INTERNAL-PAGE|FOREIGN-PAGE|internal internal|xxxxxxxx|PLAIN-OK-BODY|PLAIN-SECOND-LINE|MARKUP|<h1>/,
          'the answer echoes the body',
        );
      }
      assertNoSecretLeft();
    });

    it('says why a server cannot be reached, in words and without operation names, for Test connection and autocomplete', async () => {
      // A port nothing listens on: a listener started and closed again.
      const closed = http.createServer();
      const closedUrl = await listenOnLoopback(closed);
      await new Promise((resolve) => closed.close(resolve));
      const port = new URL(closedUrl).port;
      const refused = new RegExp(`^connection refused at 127\\.0\\.0\\.1:${port}: nothing listens there\\. Is the runtime running`);
      for (const path of ['/mimoe/check', '/mimoe/resources/images', '/mimoe/resources/mims']) {
        const res = await api(path, { settings: { url: closedUrl }, token: 'typed-key' });
        assert.equal(res.json.ok, false, res.text);
        assert.equal(res.json.code, 'MCM_UNREACHABLE');
        assert.match(res.json.message, refused, path);
      }
      // A server that accepts the connection and never answers.
      const sockets: net.Socket[] = [];
      const silent = net.createServer((socket) => sockets.push(socket));
      const silentUrl = await listenOnLoopback(silent);
      try {
        const res = await api('/mimoe/resources/mims', { settings: { url: silentUrl, timeout: 1 }, token: 'typed-key' });
        assert.equal(res.json.code, 'MCM_TIMEOUT', res.text);
        assert.match(res.json.message, /^timed out: nothing from the runtime for 1 s\. Is the runtime running, and is the URL right\?$/);
      } finally {
        sockets.forEach((socket) => socket.destroy());
        await new Promise((resolve) => silent.close(resolve));
      }
      // https:// to a plain HTTP server.
      const notTls = await api('/mimoe/check', { settings: { url: sim().url.replace('http:', 'https:') }, token: 'typed-key' });
      assert.equal(notTls.json.code, 'MCM_TLS', notTls.text);
      assert.match(
        notTls.json.message,
        /^127\.0\.0\.1:\d+ does not answer in TLS \(\w+\): for a plain HTTP server the URL starts with http:\/\/$/,
      );
      assertNoSecretLeft();
    });

    it('takes only JSON bodies: a form post is refused, whatever it holds', async () => {
      const fields = { id: 'cfg1', 'settings[url]': trap.url, token: PLACEHOLDER };
      const multipart = new FormData();
      for (const [k, v] of Object.entries(fields)) multipart.append(k, v);
      for (const path of ['/mimoe/check', '/mimoe/resources/mims']) {
        const urlencoded = await api(path, new URLSearchParams(fields).toString(), 'editor', {
          'Content-Type': 'application/x-www-form-urlencoded',
        });
        assert.equal(urlencoded.status, 415, urlencoded.text);
        assert.equal((await api(path, multipart)).status, 415);
        const plain = await api(path, JSON.stringify({ id: 'cfg1', settings: { url: trap.url }, token: PLACEHOLDER }), 'editor', {
          'Content-Type': 'text/plain',
        });
        assert.equal(plain.status, 415);
      }
      assert.deepEqual(trap.requests, []);
      assertNoSecretLeft();
    });

    it('answers 404 for a kind it does not list', async () => {
      for (const kind of ['secrets', 'flows', '__proto__', 'constructor', 'toString']) {
        const res = await api(`/mimoe/resources/${kind}`, { settings: { url: trap.url }, token: 'typed-key' });
        assert.equal(res.status, 404, kind);
        assert.equal(res.json.ok, false);
      }
      assert.deepEqual(trap.requests, []);
    });
  });

  describe("without admin authentication (Node-RED's default)", () => {
    let red: import('../../scripts/node-red-launcher').RunningNodeRed;
    const post = async (path: string, body: string | FormData, headers: Record<string, string> = {}) => {
      const res = await fetch(`${red.url}${path}`, { method: 'POST', body, headers });
      const text = await res.text();
      answers.push(text);
      return { status: res.status, text };
    };

    before(async () => {
      ({ red } = await startNodeRed('without-auth'));
      const deployed = await fetch(`${red.url}/flows`, {
        method: 'POST',
        body: JSON.stringify(flow()),
        headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      });
      assert.equal(deployed.status, 204, await deployed.text());
    });
    after(async () => {
      await red?.stop();
    });
    beforeEach(() => {
      trap.requests.length = 0;
      answers.length = 0;
    });

    it('refuses a cross-site form post in each encoding a form can send', async () => {
      const fields = { id: 'cfg1', 'settings[url]': trap.url, token: PLACEHOLDER };
      const multipart = new FormData();
      for (const [k, v] of Object.entries(fields)) multipart.append(k, v);
      const origin = { Origin: 'http://attacker.invalid' };
      for (const path of ['/mimoe/check', '/mimoe/resources/images']) {
        const urlencoded = await post(path, new URLSearchParams(fields).toString(), {
          ...origin,
          'Content-Type': 'application/x-www-form-urlencoded',
        });
        assert.equal(urlencoded.status, 415, urlencoded.text);
        assert.equal((await post(path, multipart, origin)).status, 415);
        const plain = await post(path, `{"id":"cfg1","settings":{"url":"${trap.url}"},"token":"${PLACEHOLDER}","x":"=`, {
          ...origin,
          'Content-Type': 'text/plain',
        });
        assert.equal(plain.status, 415);
      }
      assert.deepEqual(trap.requests, []);
      assertNoSecretLeft();
    });

    it('still sends no stored secret to a posted destination, and keeps the legitimate uses', async () => {
      const json = { 'Content-Type': 'application/json' };
      for (const attack of refusedAttacks()) {
        const res = await post('/mimoe/check', JSON.stringify(attack.body), json);
        assert.match(JSON.parse(res.text).message, attack.reason, attack.what);
      }
      await post('/mimoe/check', JSON.stringify({ id: 'bot1', settings: { url: trap.url }, token: PLACEHOLDER }), json);
      assert.equal(
        (await post('/mimoe/resources/anything', JSON.stringify({ settings: { url: trap.url }, token: 'k' }), json)).status,
        404,
      );
      assert.deepEqual(trap.requests, [], 'nothing was sent to a posted destination');
      assertNoSecretLeft();
      const saved = await post('/mimoe/check', JSON.stringify({ id: 'cfg1', settings: { url: sim().url }, token: PLACEHOLDER }), json);
      assert.deepEqual(JSON.parse(saved.text), { ok: true, url: sim().url, mims: 0 });
    });
  });
});
