// Starts the real server binary (built by `cargo leptos build`) on a free port
// with a fresh SQLite file, and reads the demo tenant's credentials it prints.
import { spawn, ChildProcess } from 'node:child_process';
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
  stop: () => Promise<void>;
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
  const child: ChildProcess = spawn(bin, [], {
    cwd: root,
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: path.join(root, 'target', 'site'),
      LEPTOS_OUTPUT_NAME: 'hookbell',
      DATABASE_PATH: path.join(dir, 'hookbell.sqlite3'),
      HOOKBELL_ENV: 'development',
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const ready = new Promise<{ tenantId: string; secret: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const id = /HOOKBELL_TENANT_ID=([0-9a-f]{24})/.exec(out);
      const secret = /HOOKBELL_WEBHOOK_SECRET=(\S+)/.exec(out);
      if (id && secret && out.includes('listening on')) {
        clearTimeout(timer);
        resolve({ tenantId: id[1], secret: secret[1] });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  const creds = await ready;
  return {
    url: `http://127.0.0.1:${port}`,
    ...creds,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Signs `body` as a sender does (the seed's scheme) and POSTs it. */
export async function postSigned(server: RunningServer, route: string, payload: object) {
  const body = JSON.stringify(payload);
  const signature = createHmac('sha256', server.secret).update(body).digest('hex');
  const res = await fetch(`${server.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-webhook-signature': signature },
    body,
  });
  return { status: res.status, json: await res.json() };
}
