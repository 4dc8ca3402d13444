/**
 * `npm run cluster -- --nodes 3`: a local cluster in one command. Each node is its own `larder
 * start` process with its own port and data dir under one folder; Ctrl-C stops them all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { generateSecret } from '../src/trust/secret.js';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    dir: { type: 'string', default: '.larder-cluster' },
    'base-port': { type: 'string', default: '7401' },
    token: { type: 'string' },
  },
});
const count = Number(values.nodes);
const basePort = Number(values['base-port']);
if (!Number.isInteger(count) || count < 1 || count > 9) {
  console.error('--nodes must be 1 to 9');
  process.exit(2);
}
const root = resolve(values.dir!);
const token = values.token ?? process.env['LARDER_HOST_TOKEN'] ?? 'larder-local-token';
const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
const address = (i: number): string => `127.0.0.1:${basePort + i}`;
const initialCluster = ids.map((id, i) => `${id}=${address(i)}`).join(',');
// One secret for the local cluster, kept beside its data so a restart finds the same cluster.
const secretFile = join(root, 'cluster-secret');
mkdirSync(root, { recursive: true });
if (!existsSync(secretFile)) writeFileSync(secretFile, `${generateSecret()}\n`, { mode: 0o600 });

const children: ChildProcess[] = ids.map((id, i) => {
  const dataDir = join(root, id);
  mkdirSync(dataDir, { recursive: true });
  const args = [
    'bin/larder.mjs',
    'start',
    '--node-id',
    id,
    '--data-dir',
    dataDir,
    '--listen',
    address(i),
    '--initial-cluster',
    initialCluster,
    '--host-token',
    token,
    '--cluster-secret-file',
    secretFile,
    // The demo cluster announces itself on loopback only: another `larder start` on this machine
    // (same cluster id and secret) finds it; the LAN does not hear a developer's test cluster.
    '--mdns-interface',
    '127.0.0.1',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, LARDER_LOG_PRETTY: '1' } });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    exited++;
    if (exited < count) {
      console.error(`node ${id} exited (${signal ?? code}); the others keep running`);
      return;
    }
    // Nothing left to supervise (every node refused to start, e.g. its data dir is in use).
    console.error(`node ${id} exited (${signal ?? code}); no node is running: see the errors above`);
    process.exit(1);
  });
  return child;
});

let stopping = false;
let exited = 0;
const endpoints = ids.map((_, i) => address(i)).join(',');
console.log(`
Larder: ${count} nodes on ${endpoints}, data under ${root}
  export LARDER_NODES=${endpoints}
  npm run larder -- cluster                 # roles, terms, indexes, leader
  npm run larder -- put FILE...             # upload
  npm run larder -- ls                      # list
  npm run larder -- get HASH -o out         # download from any node
  npm run larder -- rm HASH --token ${token}
Ctrl-C stops every node.
`);

function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
