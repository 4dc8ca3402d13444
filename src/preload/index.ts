import { contextBridge, ipcRenderer } from 'electron';
import { ipcChannel, type LarderApi, type LarderMethod } from '../shared/api.js';

// Runs in a sandboxed renderer: only `electron`'s renderer modules are available, and the bundle
// must be CommonJS (see electron.vite.config.ts). Expose narrow functions, never ipcRenderer itself.

function invoke<M extends LarderMethod>(method: M, ...args: Parameters<LarderApi[M]>): ReturnType<LarderApi[M]> {
  return ipcRenderer.invoke(ipcChannel(method), ...args) as ReturnType<LarderApi[M]>;
}

const api: LarderApi = {
  version: () => invoke('version'),
};

contextBridge.exposeInMainWorld('larder', api);
