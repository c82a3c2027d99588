import { createServer, type Server } from "node:http";

/** A new HTTP server listening on 127.0.0.1 on a free port (its requests are the caller's to handle). */
export async function listenOnLoopback(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return server;
}

/** Closes `server` and every connection still open to it, keep-alive ones included. */
export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
