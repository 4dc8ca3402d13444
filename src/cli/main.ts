import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { generateSecret } from '../trust/secret.js';
import { LarderClient } from '../client/larder-client.js';
import { LarderClientError } from '../client/retry.js';
import { cluster } from './commands/cluster.js';
import { get, ls, put, rm, status } from './commands/files.js';
import { lock } from './commands/lock.js';
import { leave, members, removeMember } from './commands/members.js';
import { start, type StartFlags } from './commands/start.js';
import { fail } from './output.js';

const program = new Command('larder')
  .description('Larder: a Raft-replicated, content-addressed file store for a LAN')
  .addOption(new Option('-n, --nodes <list>', 'comma-separated host:port of one or more nodes').env('LARDER_NODES').default('127.0.0.1:7401'))
  .addOption(new Option('--client-token <token>', 'for clusters that require a client token').env('LARDER_CLIENT_TOKEN'))
  .showHelpAfterError();

function client(): { c: LarderClient; endpoints: string[] } {
  const endpoints = String(program.opts()['nodes'])
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const clientToken = program.opts()['clientToken'] as string | undefined;
  return {
    c: new LarderClient({ endpoints, clientToken, onShed: (ep, ms) => process.stderr.write(`(${ep} is shedding load; retrying in ${ms} ms)\n`) }),
    endpoints,
  };
}

/** Runs a client command, turning errors into one clear line and an exit code. */
function run<A extends unknown[]>(fn: (c: LarderClient, endpoints: string[], ...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    const { c, endpoints } = client();
    try {
      await fn(c, endpoints, ...args);
    } catch (e) {
      if (e instanceof LarderClientError) fail(`${e.message}${e.shed ? ' (the cluster is overloaded; try again later)' : ''}`);
      else throw e;
    } finally {
      c.close();
    }
  };
}

program
  .command('start')
  .description('run a node (headless) until Ctrl-C')
  .option('--node-id <id>', "this node's id (env LARDER_NODE_ID)")
  .option('--data-dir <dir>', 'where this node keeps its data (env LARDER_DATA_DIR)')
  .option('--listen <host:port>', 'gRPC address to listen on (env LARDER_LISTEN; default 127.0.0.1:7401)')
  .option('--advertise <host:port>', 'address others use to reach this node (default: --listen)')
  .option('--cluster-id <id>', 'cluster name (env LARDER_CLUSTER_ID; default larder)')
  .option('--initial-cluster <list>', 'id=host:port,... of every member of a new cluster (env LARDER_INITIAL_CLUSTER)')
  .option('--host-token <token>', 'token that allows deleting files (env LARDER_HOST_TOKEN)')
  .option('--client-token <token>', 'require this token on every client call, uploads and downloads too (env LARDER_CLIENT_TOKEN)')
  .option('--tick-ms <ms>', 'Raft tick (default 100)')
  .option('--election-ticks <n>', 'ticks before an election (default 10)')
  .option('--cache-bytes <n>', 'chunk cache size in bytes (default 64 MiB)')
  .option('--forward-uploads <bool>', 'followers forward uploads to the leader (default true)')
  .option('--snapshot-entries <n>', 'snapshot after this many applied entries (default 4096)')
  .option('--log-level <level>', 'trace, debug, info, warn, error or silent')
  .option('--workers <n>', 'uploads and downloads served at once (default 3)')
  .option('--upload-queue <n>', 'uploads that may wait for a worker (default 64)')
  .option('--download-queue <n>', 'downloads that may wait for a worker (default 256)')
  .option('--shedding <on|off>', 'load shedding (default on); off: no policy sheds and the queues are unbounded (for comparison)')
  .option('--shed-policies <list>', 'policies to run: memory,priority,cpu-band,deadline (default all)')
  .option('--admission-config <file.json>', 'admission settings as JSON, e.g. other CPU band tables')
  .option('--cluster-secret <lsec1-...>', 'the secret every node of the cluster shares (env LARDER_CLUSTER_SECRET)')
  .option('--cluster-secret-file <path>', 'a file holding the cluster secret')
  .option('--join <list>', 'host:port,... of running members to join (env LARDER_JOIN)')
  .option('--peers <list>', 'the same as --join: static peers for networks without multicast')
  .option('--expect <n>', 'nodes a new cluster formed by mDNS discovery waits for (env LARDER_EXPECT; default 1)')
  .option('--discovery <mdns|off>', 'find the cluster on the LAN over mDNS (default mdns)')
  .option('--mdns-interface <ip>', 'the interface address to use for mDNS (default: all)')
  .option('--max-voters <n>', 'voters at most; further members are replicas (default 5)')
  .option('--voter-grace-ms <ms>', 'a voter silent this long gives its seat to a replica (default 30000)')
  .option('--rebuild-from-peers', "move this node's damaged data aside and re-join with the cluster's copy")
  .action((flags: StartFlags & { peers?: string; rebuildFromPeers?: boolean | string }) =>
    // --client-token is also a global option, and commander gives it to the program wherever it appears.
    start({
      ...flags,
      clientToken: flags.clientToken ?? (program.opts()['clientToken'] as string | undefined),
      join: [flags.join, flags.peers].filter(Boolean).join(',') || undefined,
      rebuildFromPeers: flags.rebuildFromPeers ? 'true' : undefined,
    }),
  );
program
  .command('cluster')
  .description('show every node: role, term, commit and applied index, leader')
  .action(run((c, eps) => cluster(c, eps)));
program
  .command('members')
  .description("every member's membership (voter or learner) and replication progress")
  .action(run((c) => members(c)));
program
  .command('remove')
  .argument('<id>')
  .addOption(new Option('--token <token>', 'the host token').env('LARDER_HOST_TOKEN'))
  .description('remove a member (e.g. a dead one) from the cluster (needs the host token)')
  .action(run((c, _e, id: string, opts: { token?: string }) => removeMember(c, id, opts.token)));
program
  .command('leave')
  .addOption(new Option('--token <token>', 'the host token').env('LARDER_HOST_TOKEN'))
  .description('the node at the first --nodes address leaves the cluster cleanly and stops')
  .action(run((c, eps, opts: { token?: string }) => leave(c, eps[0]!, opts.token)));
program
  .command('secret')
  .argument('<action>', '"new": print a fresh cluster secret; "show": print the secret a node keeps (--data-dir)')
  .option('--data-dir <dir>', "the node's data dir, for show (env LARDER_DATA_DIR)")
  .description('cluster secrets')
  .action(async (action: string, opts: { dataDir?: string }) => {
    if (action === 'new') return console.log(generateSecret());
    if (action !== 'show') return fail(`unknown action "${action}"; try: larder secret new, or larder secret show --data-dir <dir>`);
    const dir = opts.dataDir ?? process.env['LARDER_DATA_DIR'];
    if (!dir) return fail('which node? pass --data-dir <dir>');
    const text = await readFile(join(dir, 'trust', 'secret'), 'utf8').catch(() => null);
    if (text === null) return fail(`${dir} holds no cluster secret (no ${join(dir, 'trust', 'secret')}); is it a node's data dir?`);
    console.log(text.trim());
  });
program
  .command('put')
  .argument('<files...>')
  .description('upload files (progress bars, then hash and status of each)')
  .action(run((c, _e, files: string[]) => put(c, files)));
program
  .command('get')
  .argument('<hash-or-name>')
  .option('-o, --output <path>', 'write to a file instead of stdout')
  .option('--range <a-b>', 'only bytes a to b (inclusive)')
  .option('--linearizable', 'confirm with the leader before reading (ReadIndex)')
  .description('download a file by content hash or name')
  .action(run((c, _e, ref: string, opts: { output?: string; range?: string; linearizable?: boolean }) => get(c, ref, opts)));
program
  .command('ls')
  .option('--filter <text>', 'only names containing text')
  .option('--limit <n>', 'at most n files', '50')
  .description('list files, newest first')
  .action(run((c, _e, opts: { filter?: string; limit?: string }) => ls(c, opts)));
program
  .command('rm')
  .argument('<hash>')
  .addOption(new Option('--token <token>', 'the host token').env('LARDER_HOST_TOKEN'))
  .description('delete a file (needs the host token)')
  .action(run((c, _e, hash: string, opts: { token?: string }) => rm(c, hash, opts.token)));
program
  .command('status')
  .argument('<hash>')
  .option('--watch', 'follow changes')
  .description("show an upload's status: queued, processing, done, duplicate or error")
  .action(run((c, _e, hash: string, opts: { watch?: boolean }) => status(c, hash, opts.watch ?? false)));
program
  .command('lock')
  .argument('<key>')
  .requiredOption('--ttl <ms>', 'lease in milliseconds', '30000')
  .option('--holder <name>', 'who holds it')
  .option('--wait <ms>', 'wait this long for a held lock', '0')
  .description('take a lock with a lease and fencing token; released on Ctrl-C')
  .action(run((c, _e, key: string, opts: { ttl: string; holder?: string; wait?: string }) => lock(c, key, opts)));

await program.parseAsync();
