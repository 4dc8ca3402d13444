// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Syntax-only linting (no type information) keeps `npm run lint` fast on 2-core machines;
// `tsc -b` does the type checking.

const PURITY = 'src/raft is a pure deterministic state machine: time is ticks, randomness is the injected randomInt, I/O lives outside';

/** Node and Electron modules, host services and our I/O dependencies: none may enter the core. */
const forbiddenModules = [
  'node:*',
  'fs',
  'fs/*',
  'net',
  'os',
  'crypto',
  'path',
  'path/*',
  'child_process',
  'worker_threads',
  'electron',
  'electron/*',
  '@grpc/*',
  'nedb*',
  '@seald-io/nedb*',
];

/** Clocks, timers, schedulers, host objects and GC-dependent objects: each makes a run depend on more than its seed. */
const forbiddenGlobals = [
  'Date',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'queueMicrotask',
  'performance',
  'process',
  'Buffer',
  'require',
  'crypto',
  'fetch',
  'globalThis',
  'WeakRef',
  'FinalizationRegistry',
];

// Node globals for the few plain-JS files (configs, scripts); TS files rely on tsc instead of no-undef.
const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'URL', 'setTimeout', 'clearTimeout', 'Buffer'].map((name) => [name, /** @type {const} */ ('readonly')]),
);

export default defineConfig(
  { ignores: ['out/', 'dist/', 'coverage/', 'test-results/', 'bench-results/', 'playwright-report/', 'node_modules/', 'src/shared/proto/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    rules: {
      // `_`-prefixed names mark intentionally unused parameters (callbacks with fixed signatures).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
        },
      ],
    },
  },
  {
    // The purity fence. Tests may use whatever they like to drive the core.
    files: ['src/raft/**/*.ts'],
    ignores: ['src/raft/test/**', '**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: forbiddenModules, message: PURITY }] }],
      'no-restricted-globals': ['error', ...forbiddenGlobals.map((name) => ({ name, message: PURITY }))],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: PURITY }],
      'no-restricted-syntax': [
        'error',
        // import('fs') would slip past no-restricted-imports, which only sees static imports.
        {
          selector: 'ImportExpression',
          message: `${PURITY} (no dynamic import)`,
        },
        // `import x = require('fs')`, the TypeScript form of require.
        {
          selector: 'TSExternalModuleReference',
          message: `${PURITY} (no require)`,
        },
      ],
    },
  },
);
