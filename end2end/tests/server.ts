// Starts the real server binary (target/debug/server, built by `cargo test`;
// the site root holds the release bundle of `cargo leptos build --release --frontend-only`) on a free port
// with a fresh SQLite file, and reads the demo tenant's credentials it prints.
import { test, expect } from '@playwright/test';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

export interface RunningServer {
  url: string;
  tenantId: string;
  secret: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => { stdout: string; stderr: string };
  /** Stops the process, keeping its database. */
  kill: () => Promise<void>;
  /** Starts the process again on the same port and database. */
  restart: () => Promise<void>;
  /** Stops the process and removes its database. */
  stop: () => Promise<void>;
  /** Runs an administration command (`server tenant …`, `server user …`) on this server's database; its JSON output. */
  cli: (args: string[], stdin?: string) => any;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startServer(): Promise<RunningServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hookbell-e2e-'));
  const port = await freePort();
  const bin = process.env.HOOKBELL_SERVER_BIN || path.join(root, 'target', 'debug', 'server');
  let stdout = '';
  let stderr = '';
  let child: ChildProcess | undefined;

  const env = {
    ...process.env,
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    LEPTOS_SITE_ROOT: path.join(root, 'target', 'site'),
    LEPTOS_OUTPUT_NAME: 'hookbell',
    DATABASE_PATH: path.join(dir, 'hookbell.sqlite3'),
    HOOKBELL_ENV: 'development',
    // Test-only (development): snoozes may be a second long, and are looked for often.
    HOOKBELL_MIN_SNOOZE_SECS: '1',
    HOOKBELL_SNOOZE_POLL_MS: '100',
    RUST_LOG: 'debug',
  };

  const launch = () => {
    const startAt = stdout.length;
    const proc = spawn(bin, [], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${stdout}\n${stderr}`)), 30_000);
      proc.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.slice(startAt).includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${stdout}\n${stderr}`));
      });
    });
  };

  const kill = async () => {
    const proc = child;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
  };

  await launch();
  const id = /HOOKBELL_TENANT_ID=([0-9a-f]{24})/.exec(stdout);
  const secret = /HOOKBELL_WEBHOOK_SECRET=(\S+)/.exec(stdout);
  if (!id || !secret) throw new Error(`no demo tenant credentials printed:\n${stdout}`);
  return {
    url: `http://127.0.0.1:${port}`,
    tenantId: id[1],
    secret: secret[1],
    output: () => ({ stdout, stderr }),
    kill,
    restart: launch,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    cli: (args: string[], stdin = '') => {
      const run = spawnSync(bin, args, { cwd: root, env: { ...env, RUST_LOG: 'warn' }, input: stdin, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`server ${args.join(' ')} failed (${run.status}): ${run.stderr}`);
      return JSON.parse(run.stdout);
    },
  };
}

/** Signs `body` as a sender does (the seed's scheme; the demo tenant's secret by default) and POSTs it. */
export async function postSigned(server: RunningServer, route: string, payload: object, secret = server.secret) {
  const body = JSON.stringify(payload);
  const signature = createHmac('sha256', secret).update(body).digest('hex');
  const res = await fetch(`${server.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-webhook-signature': signature },
    body,
  });
  return { status: res.status, json: await res.json() };
}

/** A signed notification webhook to the demo tenant (`extra` adds or overrides fields); its id. */
export async function notify(server: RunningServer, title: string, extra: object = {}): Promise<string> {
  const res = await postSigned(server, '/api/webhooks/notifications', {
    tenantId: server.tenantId,
    title,
    message: `${title}: details`,
    ...extra,
  });
  expect(res.status).toBe(201);
  return res.json.notificationId;
}

/**
 * One server for the calling file's tests: started before them, stopped after
 * them, and every test of the file fails on page problems (see
 * `failOnPageProblems`). The returned object reads through to that server.
 */
export function serverForThisFile(): RunningServer {
  let current: RunningServer | undefined;
  test.beforeAll(async () => {
    current = await startServer();
  });
  test.afterAll(async () => {
    await current?.stop();
  });
  failOnPageProblems();
  return new Proxy({} as RunningServer, {
    get: (_target, name) => {
      if (!current) throw new Error('the server is not started yet');
      return current[name as keyof RunningServer];
    },
  });
}

/**
 * Fails each test of the file on a page error, a Rust panic, a hydration
 * mismatch or a Content-Security-Policy violation seen in the browser.
 */
export function failOnPageProblems() {
  let problems: string[] = [];
  test.beforeEach(async ({ page }) => {
    problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (/panicked|hydration|unreachable|Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
  });
  test.afterEach(async () => {
    expect(problems).toEqual([]);
  });
}
