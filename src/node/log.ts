import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured logs (JSON lines on stderr) with the node's id on every line. */
export function createLogger(nodeId: string, level: string): Logger {
  return pino({ level, base: { node: nodeId }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
