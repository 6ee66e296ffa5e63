import nodemailer from 'nodemailer';

/** One plain-text mail. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** Sends mail; the one port email codes need (a test sink or SMTP behind it). */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/**
 * nodemailer's SMTP transport from SESSIOND_SMTP_URL: `smtps:` is TLS from the start, `smtp:`
 * upgrades with STARTTLS when the server offers it. Undefined without a URL (no email codes).
 * The URL carries the SMTP credentials, so neither it nor nodemailer's own logging (which
 * prints the conversation, codes included) ever reaches a log.
 */
export function mailerFrom(config: { smtpURL: string | undefined; mailFrom: string }): Mailer | undefined {
  if (config.smtpURL === undefined) return undefined;
  const transport = nodemailer.createTransport(config.smtpURL, { from: config.mailFrom });
  return {
    async send(message) {
      await transport.sendMail({ to: message.to, subject: message.subject, text: message.text });
    },
    close() {
      transport.close();
    },
  };
}
