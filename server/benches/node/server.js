// The fan-out benchmark's point of comparison: a minimal Node.js socket.io 4
// server with hookbell's contract for this one path. A client joins a tenant's
// room with `join-tenant` (acked `{ok: true}`); `POST /api/webhooks/notifications`
// broadcasts `new-notification` `{notification, unreadCount}` with a notification
// shaped like hookbell's to that room and answers 201. It verifies and stores
// nothing: it is the floor of what such a server does per event, not a rival.
// Prints its port on stdout once it listens. Run by server/benches/fanout.rs
// with HOOKBELL_BENCH_TARGET=node.
"use strict";
const http = require("http");
const crypto = require("crypto");
const { Server } = require("socket.io");

let unread = 0;
const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/api/webhooks/health") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end('{"success":true,"status":"ok"}');
  }
  if (req.method !== "POST" || req.url !== "/api/webhooks/notifications") {
    res.writeHead(404);
    return res.end();
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      return res.end('{"success":false,"error":"invalid_json"}');
    }
    const now = new Date().toISOString();
    const notification = {
      id: crypto.randomBytes(12).toString("hex"),
      tenantId: body.tenantId,
      userId: null,
      title: body.title,
      message: body.message,
      type: body.type || "info",
      priority: body.priority || "medium",
      actionUrl: null,
      actionText: null,
      metadata: body.metadata || {},
      isRead: false,
      isDismissed: false,
      readAt: null,
      deliveredAt: null,
      createdAt: now,
      snoozedUntil: null,
    };
    unread += 1;
    io.to(`tenant:${body.tenantId}`).emit("new-notification", { notification, unreadCount: unread });
    res.writeHead(201, { "content-type": "application/json" });
    res.end(JSON.stringify({ success: true, message: "Notification created successfully", notificationId: notification.id }));
  });
});

const io = new Server(server, { transports: ["websocket", "polling"] });
io.on("connection", (socket) => {
  socket.on("join-tenant", (tenantId, ack) => {
    socket.join(`tenant:${tenantId}`);
    if (typeof ack === "function") ack({ ok: true, unreadCount: unread });
  });
});

server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(server.address().port);
});
