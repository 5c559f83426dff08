// The server's log: pino JSON for machines (not a terminal, or LOG_FORMAT=json), pino-pretty's
// readable lines for a person at a terminal (or LOG_FORMAT=pretty). Pretty-printing runs in this
// thread, synchronously, so a fatal line written just before exit is not lost.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

/** LOG_FORMAT's value, or by default pretty on a terminal; null for a value that is neither. */
export function parseLogFormat(value: string | undefined, isTerminal: boolean): LogFormat | null {
  if (value === undefined || value === '') return isTerminal ? 'pretty' : 'json';
  return value === 'json' || value === 'pretty' ? value : null;
}

export function createLogger(format: LogFormat, level: string): Logger {
  if (format === 'json') return pino({ level });
  return pino({ level }, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}
