import { test, expect } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { io, Socket } from 'socket.io-client';
import { startServer, RunningServer } from './server';

// The official JavaScript client (npm socket.io-client) against hookbell:
// dashboards not written in Rust authenticate with an API key, join their
// tenant and receive its events, over WebSocket and over long-polling.

let server: RunningServer;
let tenant: { tenantId: string; webhookSecret: string; apiKey: string };

test.beforeAll(async () => {
  server = await startServer();
  tenant = server.cli(['tenant', 'create', '--name', 'JS Client Shop']);
});

test.afterAll(async () => {
  await server?.stop();
});

function connect(options: Parameters<typeof io>[1]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(server.url, { reconnection: false, ...options });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (e) => {
      socket.close();
      reject(e);
    });
  });
}

async function postOrder(orderNumber: string) {
  const body = JSON.stringify({ tenantId: tenant.tenantId, orderNumber, amount: 42 });
  const signature = createHmac('sha256', tenant.webhookSecret).update(body).digest('hex');
  const res = await fetch(`${server.url}/api/webhooks/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-webhook-signature': signature },
    body,
  });
  expect(res.status).toBe(201);
}

for (const transports of [['websocket'], ['polling']]) {
  test(`socket.io-client over ${transports[0]} authenticates, joins and receives events`, async () => {
    const socket = await connect({ transports, auth: { apiKey: tenant.apiKey } });
    try {
      expect(socket.io.engine.transport.name).toBe(transports[0]);
      const ack = await socket.timeout(5000).emitWithAck('join-tenant', tenant.tenantId);
      expect(ack.ok).toBe(true);
      expect(typeof ack.unreadCount).toBe('number');

      const received = new Promise<any>((resolve) => socket.once('new-notification', resolve));
      const refreshed = new Promise<any>((resolve) => socket.once('dashboard-refresh', resolve));
      await postOrder(`JS-${transports[0]}`);
      const event = await received;
      expect(event.notification.title).toBe(`New order JS-${transports[0]}`);
      expect(event.unreadCount).toBe(ack.unreadCount + 1);
      expect((await refreshed).entities).toContain('orders');

      // Another tenant's room stays closed to this key.
      const refused = await socket.timeout(5000).emitWithAck('join-tenant', '507f1f77bcf86cd799439011');
      expect(refused.ok).toBe(false);
    } finally {
      socket.close();
    }
  });
}

test('socket.io-client with a wrong key is refused at the handshake', async () => {
  const error = await connect({ transports: ['websocket'], auth: { apiKey: 'hb_00000000_nope' } }).then(
    () => null,
    (e: Error) => e,
  );
  expect(error).not.toBeNull();
  expect(String(error?.message)).toContain('Invalid or revoked API key');
});
