// Graceful shutdown for keep-alive clients. When the app closes, Node closes the
// connections idle at that moment and Fastify answers new requests 503, but a request
// already being handled is answered as keep-alive: its connection turns idle after the
// one-time sweep and holds `close()` until the client or the keep-alive timeout (72 s)
// ends it, longer than most orchestrators wait before they kill the process. Once the
// app is closing, every response says `Connection: close`, so Node ends its connection
// when the response is sent and the client opens its next one elsewhere.
import type { FastifyInstance } from 'fastify';

/** Makes every response sent after `app.close()` began end its connection. */
export function closeConnectionsOnShutdown(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}
