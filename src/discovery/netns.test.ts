import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listNamespaces, NetnsLan, netnsAvailable, run } from './test/netns.js';

/**
 * Proves the namespace harness: three hosts on a private bridge, isolated from each other's
 * addresses and from the machine's, reachable over TCP and over mDNS multicast, and gone after
 * destroy(). Skipped (with the reason in the title) where namespaces cannot be made.
 */

const available = await netnsAvailable();
if (!available.ok) console.warn(`netns tests skipped: ${available.why}`);
const title = available.ok ? 'network namespace LAN' : `network namespace LAN (skipped: ${available.why})`;

// Child scripts are CommonJS, said explicitly since newer Nodes guess the type of -e input.
const node = (script: string, ...args: string[]): string[] => ['--input-type=commonjs', '-e', script, ...args];
const mdnsPath = createRequire(import.meta.url).resolve('multicast-dns');

const TCP_SERVER = `
const [ip, port] = process.argv.slice(1);
require('net').createServer((s) => s.end('hello from ' + ip)).listen(Number(port), ip, () => console.log('listening'));`;
const TCP_CLIENT = `
const [ip, port] = process.argv.slice(1);
const s = require('net').connect(Number(port), ip);
let got = '';
s.on('data', (d) => (got += d)).on('end', () => console.log(got));`;
// Answers A queries for one name with its own address.
const MDNS_RESPONDER = `
const [path, ip, name] = process.argv.slice(1);
const m = require(path)({ interface: ip, bind: '0.0.0.0', loopback: false });
m.on('query', (q) => {
  if (q.questions.some((x) => x.name === name)) m.respond({ answers: [{ name, type: 'A', ttl: 5, data: ip }] });
});
m.on('ready', () => console.log('ready'));`;
// Asks every 250 ms until answered; prints the answer and who sent it.
const MDNS_QUERIER = `
const [path, ip, name] = process.argv.slice(1);
const m = require(path)({ interface: ip, bind: '0.0.0.0', loopback: false });
m.on('response', (r, rinfo) => {
  const a = r.answers.find((x) => x.name === name && x.type === 'A');
  if (a) { console.log(JSON.stringify({ data: a.data, from: rinfo.address })); process.exit(0); }
});
const ask = () => m.query({ questions: [{ name, type: 'A' }] });
m.on('ready', () => { ask(); setInterval(ask, 250); });
setTimeout(() => { console.error('no mDNS answer'); process.exit(1); }, 5000);`;

const ORPHAN_SLEEPER = `
const c = require('child_process').spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
console.log(c.pid);`;

/** A killed process may linger as a zombie if nobody reaps it; that counts as gone. */
function running(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves with the first stdout line of a spawned child; rejects if it exits first. */
async function firstLine(child: ChildProcess): Promise<string> {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const line = new Promise<string>((resolve) => child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const died = once(child, 'exit').then(([code]) => Promise.reject(new Error(`child exited ${code} before output: ${err}`)));
  return Promise.race([line, died]);
}

// Names and addresses only: states and lease lifetimes may change under us without our doing.
const rootLinks = async (): Promise<string[]> => (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(/\s+/)[1] ?? '');
const rootAddrs = async (): Promise<string[]> =>
  [...(await run('ip', ['-4', '-o', 'addr', 'show'])).stdout.matchAll(/^\d+: (\S+)\s+inet (\S+)/gm)].map((m) => `${m[1]} ${m[2]}`);

describe.skipIf(!available.ok)(title, () => {
  let lan: NetnsLan;
  let linksBefore: string[] = [];
  let addrsBefore: string[] = [];

  beforeAll(async () => {
    [linksBefore, addrsBefore] = [await rootLinks(), await rootAddrs()];
    lan = await NetnsLan.create(3);
  });
  afterAll(async () => {
    await lan?.destroy();
  });

  it('gives each host only its own address, leaves the root namespace alone', async () => {
    expect(lan.hosts.map((h) => h.ip)).toEqual(['10.231.0.11', '10.231.0.12', '10.231.0.13']);
    for (const [i, host] of lan.hosts.entries()) {
      const { stdout } = await lan.exec(i + 1, 'ip', ['-4', '-o', 'addr', 'show']);
      const addrs = [...stdout.matchAll(/inet (\S+)/g)].map((m) => m[1]).sort();
      expect(addrs).toEqual([`${host.ip}/24`, '127.0.0.1/8']);
    }
    expect(await rootLinks()).toEqual(linksBefore);
    expect(await rootAddrs()).toEqual(addrsBefore);
  });

  it('host 1 reaches host 3 over TCP', async () => {
    const h3 = lan.host(3);
    const server = lan.spawn(3, process.execPath, node(TCP_SERVER, h3.ip, '7000'));
    expect(await firstLine(server)).toBe('listening');
    const { stdout } = await lan.exec(1, process.execPath, node(TCP_CLIENT, h3.ip, '7000'));
    expect(stdout.trim()).toBe(`hello from ${h3.ip}`);
  });

  it('host 1 gets an mDNS answer from host 2 over the bridge', async () => {
    const name = `${lan.prefix}.local`;
    const responder = lan.spawn(2, process.execPath, node(MDNS_RESPONDER, mdnsPath, lan.host(2).ip, name));
    expect(await firstLine(responder)).toBe('ready');
    const { stdout } = await lan.exec(1, process.execPath, node(MDNS_QUERIER, mdnsPath, lan.host(1).ip, name));
    expect(JSON.parse(stdout)).toEqual({ data: lan.host(2).ip, from: lan.host(2).ip });
  });

  it('destroy() kills children and grandchildren and leaves no namespace behind; a second call is a no-op', async () => {
    const sleeper = lan.spawn(1, 'sleep', ['60']);
    // Detached, it survives its parent's SIGTERM: only the namespace sweep can find it.
    const parent = lan.spawn(2, process.execPath, node(ORPHAN_SLEEPER));
    const orphan = Number(await firstLine(parent));
    await lan.destroy();
    expect(sleeper.exitCode !== null || sleeper.signalCode !== null).toBe(true);
    await expect.poll(() => running(orphan), { timeout: 5000 }).toBe(false);
    expect((await listNamespaces()).filter((n) => n.startsWith(`${lan.prefix}-`))).toEqual([]);
    await lan.destroy();
    expect(await rootLinks()).toEqual(linksBefore);
  });
});
