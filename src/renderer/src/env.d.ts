import type { LarderApi } from '../../shared/api.js';

declare global {
  interface Window {
    /** Provided by the preload bridge in Electron; a browser adapter over HTTP will provide it later. */
    larder: LarderApi;
  }
}

export {};
