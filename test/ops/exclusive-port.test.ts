// uWS listens with SO_REUSEPORT unless told otherwise: a second server on a port in use would
// start and the kernel would share the connections between the two. The second must refuse.
import { afterEach, describe, expect, it } from 'vitest';
import { httpGet } from '../support/e2e.js';
import { freePort } from '../support/free-port.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const running: TestServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.stop();
});

describe('a port already in use', () => {
  it('refuses the second server with a message naming the port, and the first keeps serving', async () => {
    const port = await freePort();
    const first = await startTestServer({ port });
    running.push(first);

    const second = await startTestServer({ port }).then(
      (server) => server,
      (error: unknown) => error as Error,
    );
    if (!(second instanceof Error)) {
      running.push(second);
      expect.fail(`a second server started on port ${port}`);
    }
    expect(second.message).toContain(`port ${port} is already in use`);
    expect((await httpGet(`${first.httpUrl}/health`)).status).toBe(200);
  });
});
