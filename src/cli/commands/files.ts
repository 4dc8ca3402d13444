import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { LarderClient } from '../../client/larder-client.js';
import { FileStatus } from '../../shared/proto/larder/v1/store.js';
import { bytes, fail, progressBars, table } from '../output.js';

const sha256Hex = /^[0-9a-f]{64}$/;

const mimeByExt: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.json': 'application/json',
  '.html': 'text/html',
  '.csv': 'text/csv',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.mp4': 'video/mp4',
  '.mp3': 'audio/mpeg',
};

export function mimeOf(path: string): string {
  return mimeByExt[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

export function statusName(s: FileStatus): string {
  return FileStatus[s]?.replace('FILE_STATUS_', '').toLowerCase() ?? 'unknown';
}

export async function put(client: LarderClient, files: string[]): Promise<void> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const bars = progressBars();
  const results = await Promise.all(
    files.map(async (file, i) => {
      const bar = bars.create(sizes[i]!, 0, { name: basename(file) });
      try {
        const res = await client.upload({
          name: basename(file),
          mime: mimeOf(file),
          size: sizes[i]!,
          open: () => createReadStream(file, { highWaterMark: 255 * 1024 }),
          onProgress: (n) => bar.update(n),
        });
        return [basename(file), bytes(Number(res.size)), statusName(res.status), res.hash];
      } catch (e) {
        process.exitCode = 1;
        return [basename(file), bytes(sizes[i]!), 'error', (e as Error).message];
      }
    }),
  );
  bars.stop();
  console.log(table(['file', 'size', 'status', 'hash'], results));
}

export async function get(client: LarderClient, ref: string, opts: { output?: string; range?: string; linearizable?: boolean }): Promise<void> {
  const target = sha256Hex.test(ref) ? { hash: ref } : { name: ref };
  let offset = 0;
  let length: number | undefined;
  if (opts.range) {
    const m = /^(\d+)-(\d+)$/.exec(opts.range);
    if (!m || Number(m[2]) < Number(m[1])) return fail(`--range must be a-b with a <= b (byte offsets, inclusive), got "${opts.range}"`, 2);
    offset = Number(m[1]);
    length = Number(m[2]) - offset + 1;
  }
  const out = opts.output ? createWriteStream(opts.output) : process.stdout;
  const info = await client.download(target, (d) => new Promise<void>((res, rej) => (out.write(d) ? res() : out.once('drain', res), out.once('error', rej))), {
    offset,
    length,
    linearizable: opts.linearizable,
  });
  if (opts.output) {
    await new Promise((r) => (out as ReturnType<typeof createWriteStream>).end(r));
    process.stderr.write(`${info.hash}  ${opts.output} (${bytes(Number(info.size))})\n`);
  }
}

export async function ls(client: LarderClient, opts: { filter?: string; limit?: string }): Promise<void> {
  const limit = Number(opts.limit ?? 50);
  const res = await client.list({ limit, nameFilter: opts.filter });
  const rows = res.files.map((f) => [f.names.join(', '), bytes(Number(f.size)), f.hash.slice(0, 16), new Date(Number(f.createdAtMs)).toISOString(), f.viaNode]);
  console.log(table(['name', 'size', 'hash', 'created', 'via'], rows));
  if (res.nextCursor) console.log(`(more: larder ls --limit ${limit * 2})`);
}

export async function rm(client: LarderClient, hash: string, token: string | undefined): Promise<void> {
  if (!sha256Hex.test(hash)) return fail(`"${hash}" is not a content hash (64 lowercase hex characters); see larder ls`, 2);
  if (!token) return fail('deleting needs the host token: --token TOKEN or LARDER_HOST_TOKEN', 2);
  const deleted = await client.delete(hash, token);
  console.log(deleted ? `deleted ${hash}` : `${hash} was not stored`);
}

export async function status(client: LarderClient, hash: string, watch: boolean): Promise<void> {
  if (!sha256Hex.test(hash)) return fail(`"${hash}" is not a content hash (64 lowercase hex characters)`, 2);
  if (!watch) {
    const s = await client.getStatus(hash);
    console.log(`${hash} ${statusName(s.status)}${s.message ? `: ${s.message}` : ''}`);
    return;
  }
  for await (const s of client.watchStatus(hash))
    console.log(`${new Date(Number(s.updatedAtMs)).toISOString()} ${statusName(s.status)}${s.message ? `: ${s.message}` : ''}`);
}
