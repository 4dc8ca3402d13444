/** What storage reports that is not an error: torn tails cut at recovery. pino fits this shape. */
export interface StorageLogger {
  warn(message: string): void;
}

export const consoleLogger: StorageLogger = { warn: (message) => console.warn(message) };

export const silentStorageLogger: StorageLogger = { warn: () => {} };
