import { app, BrowserWindow, ipcMain, session, type IpcMainInvokeEvent } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ipcChannel, type LarderApi, type LarderMethod } from '../shared/api.js';

// The shell only: windows and IPC. The node runtime (Raft, storage, gRPC) arrives in a later issue.

const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererIndexPath = fileURLToPath(new URL('../renderer/index.html', import.meta.url));
// electron-vite sets this in `dev` only; a packaged or built app always loads from disk.
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];

/** True only for the top frame of our own page: IPC from anything else (iframe, navigated-away page) is refused. */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return false;
  }
  if (devServerUrl) return url.origin === new URL(devServerUrl).origin;
  return url.protocol === 'file:' && url.pathname === pathToFileURL(rendererIndexPath).pathname;
}

// Typed against the contract: a method added to LarderApi without a handler here fails to compile.
type Handlers = {
  [M in LarderMethod]: (...args: Parameters<LarderApi[M]>) => ReturnType<LarderApi[M]>;
};
const handlers: Handlers = {
  version: async () => app.getVersion(),
};

function registerIpc(): void {
  for (const method of Object.keys(handlers) as LarderMethod[]) {
    ipcMain.handle(ipcChannel(method), (event) => {
      if (!isTrustedSender(event)) throw new Error(`larder: refused ${method} from untrusted sender ${event.senderFrame?.url ?? '(gone)'}`);
      return handlers[method]();
    });
  }
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1100,
    height: 720,
    title: 'Larder',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  win.once('ready-to-show', () => win.show());
  // Our page never navigates or opens windows; anything that tries is not ours.
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  if (devServerUrl) void win.loadURL(devServerUrl);
  else void win.loadFile(rendererIndexPath);
}

void app.whenReady().then(() => {
  // The placeholder needs no camera, notifications or the like: deny every permission request.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  registerIpc();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
