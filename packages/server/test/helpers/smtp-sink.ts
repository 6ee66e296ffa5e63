import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** The SMTP user the sender authenticated as (undefined: none). */
  authUser: string | undefined;
}

export interface SMTPSink {
  /** `smtp://user:password@127.0.0.1:port`: what SESSIOND_SMTP_URL points at. */
  url: string;
  /** The next mail to `to` not yet taken (waits for it up to `timeoutMs`). */
  nextMail(to: string, options?: { timeoutMs?: number }): Promise<ReceivedMail>;
  /** The six-digit code in the next mail to `to`. */
  nextCode(to: string, options?: { timeoutMs?: number }): Promise<string>;
  /** Mails received and not yet taken, for every recipient. */
  pending(): ReceivedMail[];
  close(): Promise<void>;
}

export const SMTP_USER = 'sessiond';
export const SMTP_PASSWORD = 'smtp-password-never-logged';

/**
 * A real SMTP server on a free loopback port (smtp-server), each mail parsed with mailparser.
 * It takes plain-text AUTH without TLS (loopback only) and checks the credentials, so a test
 * proves the ones in SESSIOND_SMTP_URL are used.
 */
export async function startSMTPSink(): Promise<SMTPSink> {
  const received: ReceivedMail[] = [];
  const waiters: { to: string; resolve: (mail: ReceivedMail) => void }[] = [];
  const deliver = (mail: ReceivedMail): void => {
    const index = waiters.findIndex((waiter) => mail.to.includes(waiter.to));
    if (index === -1) received.push(mail);
    else waiters.splice(index, 1)[0]?.resolve(mail);
  };
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: false,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error('invalid credentials'));
      }
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed: ParsedMail) => {
          deliver({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            authUser: typeof session.user === 'string' ? session.user : undefined,
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  const nextMail = (to: string, options: { timeoutMs?: number } = {}): Promise<ReceivedMail> => {
    const address = to.toLowerCase();
    const index = received.findIndex((mail) => mail.to.includes(address));
    if (index !== -1) return Promise.resolve(received.splice(index, 1)[0] as ReceivedMail);
    return new Promise((resolve, reject) => {
      const waiter = {
        to: address,
        resolve: (mail: ReceivedMail) => {
          clearTimeout(timer);
          resolve(mail);
        },
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`no mail to ${to} within ${options.timeoutMs ?? 5000} ms`));
      }, options.timeoutMs ?? 5000);
      waiters.push(waiter);
    });
  };
  return {
    url: `smtp://${SMTP_USER}:${SMTP_PASSWORD}@127.0.0.1:${port}`,
    nextMail,
    async nextCode(to, options) {
      const mail = await nextMail(to, options);
      const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
      if (!code) throw new Error(`no code in the mail to ${to}: ${mail.text}`);
      return code;
    },
    pending: () => [...received],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
