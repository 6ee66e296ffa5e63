import type { TestServer } from './test-server.js';

/**
 * Resolves once every outbox of the server (webhooks, back-channel logout, Web Push) has
 * delivered or skipped every audit row written so far. They run in the background: a test that
 * reads what they did, or what waits on their cursors (retention), waits for this first.
 */
export async function outboxesDrained(server: TestServer): Promise<void> {
  const { push, webhooks, backchannelLogout } = server.app.sessiond;
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const backlogs = await Promise.all(
      [push.dispatcher, webhooks, backchannelLogout].map((o) => o.backlog()),
    );
    if (backlogs.every((backlog) => backlog === 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the outboxes did not drain');
}
