import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';

export default defineConfig({
  // package.json has "type": "module", so main is emitted as ESM (out/main/index.js).
  main: {
    build: {
      rollupOptions: { input: { index: resolve('src/main/index.ts') } },
    },
  },
  // A sandboxed preload is not loaded by Node's module system: it must be a single CommonJS file.
  // The .cjs name keeps Node tooling from reading it as ESM under "type": "module".
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', inlineDynamicImports: true },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    // Relative asset URLs: the same build loads from file:// in Electron and over plain HTTP in a browser.
    base: './',
    build: {
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
    plugins: [react()],
  },
});
