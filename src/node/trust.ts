import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deriveClusterCa, generateSecret, loadOrCreateIdentity, parseSecret, TrustError, type ClusterCa, type NodeIdentity } from '../trust/index.js';
import type { NodeConfig } from './config.js';
import type { Logger } from './log.js';
import { foundsClusterAlone } from './startup.js';

export interface NodeTrust {
  readonly ca: ClusterCa;
  readonly identity: NodeIdentity;
}

async function readText(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * The cluster secret, from (in order) --cluster-secret / LARDER_CLUSTER_SECRET, --cluster-secret-file,
 * or what this node stored at an earlier start. A brand-new node that starts a cluster of its own
 * (no other initial members) makes one and prints it; a new multi-member cluster must be given one,
 * or its members would each make a different one and never trust each other.
 */
async function secretFor(config: NodeConfig, fresh: boolean, stored: string | null): Promise<{ text: string; generated: boolean }> {
  if (config.clusterSecret) return { text: config.clusterSecret, generated: false };
  if (config.clusterSecretFile) {
    const text = await readText(config.clusterSecretFile);
    if (text === null) throw new TrustError(`--cluster-secret-file ${config.clusterSecretFile}: no such file`);
    return { text, generated: false };
  }
  if (stored !== null) return { text: stored, generated: false };
  if (fresh && foundsClusterAlone(config)) return { text: generateSecret(), generated: true };
  const members = Object.keys(config.initialCluster).length;
  throw new TrustError(
    !fresh
      ? `this node has data but no cluster secret: pass the cluster's secret with --cluster-secret (or LARDER_CLUSTER_SECRET)`
      : members > 1
        ? `a new cluster of ${members} members needs one shared secret: make one with \`larder secret new\` and pass it to every member with --cluster-secret (or LARDER_CLUSTER_SECRET)`
        : `joining a cluster needs its secret: pass it with --cluster-secret (or LARDER_CLUSTER_SECRET); a new cluster's first node prints it`,
  );
}

/** Resolves the secret, keeps it under the data dir (0600), and derives the CA and this node's identity. */
export async function prepareTrust(config: NodeConfig, fresh: boolean, log: Logger): Promise<NodeTrust> {
  const dir = join(config.dataDir, 'trust');
  const secretPath = join(dir, 'secret');
  const stored = await readText(secretPath);
  const { text, generated } = await secretFor(config, fresh, stored);
  const secret = parseSecret(text);
  if (stored !== null && stored !== text.trim())
    log.warn('the cluster secret changed: this node re-keys (new certificate); nodes with the old secret will refuse it');
  if (stored !== text.trim()) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(secretPath, `${text.trim()}\n`, { mode: 0o600 });
    await chmod(secretPath, 0o600);
  }
  // Printed once, to the terminal, never into the logs: it is the key to the cluster.
  if (generated) process.stderr.write(`\nNew cluster secret (kept in ${secretPath}); give it to every node that joins:\n  ${text}\n\n`);
  const ca = await deriveClusterCa(secret, config.clusterId);
  const identity = await loadOrCreateIdentity(dir, config.nodeId, ca);
  return { ca, identity };
}
