import type { LarderClient } from '../../client/larder-client.js';

/** Takes a lock, prints its fencing token, keeps the lease alive until Ctrl-C, then releases it. */
export async function lock(client: LarderClient, key: string, opts: { ttl: string; holder?: string; wait?: string }): Promise<void> {
  const ttlMs = Number(opts.ttl);
  const holder = opts.holder ?? `cli-${process.pid}`;
  const res = await client.acquireLock(key, holder, ttlMs, Number(opts.wait ?? 0));
  if (!res.acquired) {
    console.error(`lock ${key} is held by ${res.holder} until ${new Date(Number(res.expiresAtMs)).toISOString()}`);
    process.exitCode = 3;
    return;
  }
  console.log(`locked ${key}: fencing token ${res.fencingToken}, lease ${ttlMs} ms (Ctrl-C releases)`);
  const timer = setInterval(
    () => void client.keepAliveLock(key, Number(res.fencingToken)).catch((e: Error) => console.error(`keep-alive failed: ${e.message}`)),
    Math.max(100, ttlMs / 3),
  );
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  clearInterval(timer);
  await client.releaseLock(key, Number(res.fencingToken));
  console.log(`released ${key}`);
}
