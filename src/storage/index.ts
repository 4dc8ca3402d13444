export { DurableStorage } from './durable-storage.js';
export type { DurableStorageOptions, SaveRequest } from './durable-storage.js';
export { StorageError, rebuildCommand } from './errors.js';
export type { StorageErrorCode } from './errors.js';
export type { StorageLogger } from './logger.js';
export { consoleLogger, silentStorageLogger } from './logger.js';
export { crc32c, crc32cUpdate } from './crc32c.js';
