import type { FastifyBaseLogger } from 'fastify';
import pino, { type Logger } from 'pino';

/** Operational logs go to stderr as JSON; stdout stays free for decision logs and CLI output. */
export function createLogger(level: string, name = 'warden'): Logger {
  return pino(
    {
      name,
      level,
      // Defence in depth: secrets are never logged on purpose; these keys are cut if they ever are.
      redact: {
        paths: ['*.password', '*.token', '*.secret', '*.authorization', 'password', 'token'],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger for an HTTP server: warnings and errors only, so requests are not logged one by one. */
export function httpLogger(logger: Logger, component: string): FastifyBaseLogger {
  return logger.child({ component }, { level: 'warn' }) as unknown as FastifyBaseLogger;
}
