/** How the simulator answers: JSON, the error shape of both profiles, an empty body. */
import type http from 'node:http';

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The error shape of both profiles (the field's recorded auth answers have it too). */
export function sendError(res: http.ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { code: status, message } });
}

export function sendEmpty(res: http.ServerResponse, status: number): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

/** Answers at once, without reading the body: the client may or may not send it now. */
export function refuseAndClose(res: http.ServerResponse, status: number, message: string): void {
  res.setHeader('Connection', 'close');
  sendError(res, status, message);
}
