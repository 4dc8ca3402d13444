/**
 * The one contract between the renderer and whatever hosts it. Preload implements it over IPC
 * today; a headless node will implement the same interface over HTTP + WebSocket, so the very
 * same renderer runs in a plain browser. Add a method here and the compiler asks for it in
 * main (handler) and preload (bridge).
 */
export interface LarderApi {
  /** The app version, so the window can prove the bridge works end to end. */
  version(): Promise<string>;
}

export type LarderMethod = keyof LarderApi;

/** One IPC channel per method, namespaced so it cannot collide with Electron's or a library's. */
export function ipcChannel(method: LarderMethod): `larder:${LarderMethod}` {
  return `larder:${method}`;
}
