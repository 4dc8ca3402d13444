import { z } from 'zod';

/**
 * A node's configuration: from flags, then LARDER_* environment variables (a `.env` file in the
 * working directory is read too), then defaults. Validated once, with errors that say which
 * setting is wrong and how to fix it.
 */

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:7401');
const nodeId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." and "-", at most 63 characters');

/** `id=host:port,id=host:port` -> map. */
const memberList = z.string().transform((s, ctx) => {
  const out: Record<string, string> = {};
  for (const item of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [id, addr, extra] = item.split('=');
    const idOk = nodeId.safeParse(id);
    const addrOk = hostPort.safeParse(addr);
    if (extra !== undefined || !idOk.success || !addrOk.success) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${item}" is not id=host:port` });
      return z.NEVER;
    }
    out[idOk.data] = addrOk.data;
  }
  return out;
});

/** `host:port,host:port` -> list. */
const addressList = z.string().transform((s, ctx) => {
  const out: string[] = [];
  for (const item of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const ok = hostPort.safeParse(item);
    if (!ok.success) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${item}" is not host:port` });
      return z.NEVER;
    }
    out.push(ok.data);
  }
  return out;
});

const booleanFlag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1');

const policyNames = { memory: 'memory', priority: 'priority', 'cpu-band': 'cpuBands', deadline: 'deadline' } as const;
export type ShedPolicyFlag = keyof typeof policyNames;

/** `memory,priority,cpu-band,deadline` -> the admission config's policy names. */
const policyList = z.string().transform((s, ctx) => {
  const out: (typeof policyNames)[ShedPolicyFlag][] = [];
  for (const item of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!(item in policyNames)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${item}" is not a policy; use any of ${Object.keys(policyNames).join(', ')}` });
      return z.NEVER;
    }
    out.push(policyNames[item as ShedPolicyFlag]);
  }
  return out;
});

export const nodeConfigSchema = z
  .object({
    nodeId,
    clusterId: z.string().min(1).max(64).default('larder'),
    dataDir: z.string().min(1),
    /** Address the gRPC server binds to. */
    listen: hostPort.default('127.0.0.1:7401'),
    /** Address peers and clients should use to reach this node (defaults to `listen`). */
    advertise: hostPort.optional(),
    /** The members a brand-new cluster starts with (all nodes pass the same list), or empty to join later. */
    initialCluster: memberList.default(''),
    /** If set, every client API call must carry this token (uploads and downloads too). */
    clientToken: z.string().min(8, 'the client token must be at least 8 characters').optional(),
    /** Token required to delete files; compared in constant time. */
    hostToken: z.string().min(8, 'the host token must be at least 8 characters').optional(),
    tickMs: z.coerce.number().int().min(5).max(5000).default(100),
    electionTicks: z.coerce.number().int().min(3).max(100).default(10),
    cacheBytes: z.coerce
      .number()
      .int()
      .min(0)
      .default(64 * 1024 * 1024),
    /** Followers forward uploads to the leader (else they answer NOT_LEADER with its address). */
    forwardUploads: booleanFlag.default(true),
    snapshotEntries: z.coerce.number().int().min(2).default(4096),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
    /** Admission control (src/admission): concurrent upload/download tasks and queue bounds. */
    workers: z.coerce.number().int().min(1).max(1024).optional(),
    uploadQueue: z.coerce.number().int().min(0).optional(),
    downloadQueue: z.coerce.number().int().min(0).optional(),
    /** `off` switches every shedding policy off and unbounds the queues: the naive server, for comparison. */
    shedding: z.enum(['on', 'off']).default('on'),
    /** Which policies run when shedding is on. */
    shedPolicies: policyList.default('memory,priority,cpu-band,deadline'),
    /** A JSON file with admission settings (src/admission/config.ts), e.g. other CPU tables. */
    admissionConfig: z.string().min(1).optional(),
    /** Running members to ask for admission (host:port,...): a new node joins as a learner. `--peers` too. */
    join: addressList.default(''),
    /** How many nodes a new cluster formed by discovery starts with (the lowest id bootstraps). */
    expect: z.coerce.number().int().min(1).max(1000).default(1),
    /** `mdns` announces this node and finds others on the LAN; `off` uses --join / --initial-cluster only. */
    discovery: z.enum(['mdns', 'off']).default('mdns'),
    /** The interface address to multicast on (default: every IPv4 interface). */
    mdnsInterface: z.string().min(1).optional(),
    /** At most this many voters; further members stay replicas (learners) that hold every file. */
    maxVoters: z.coerce.number().int().min(1).max(9).default(5),
    /** A voter silent this long gives its seat to a caught-up replica. */
    voterGraceMs: z.coerce.number().int().min(1000).default(30_000),
    /** Start over from the cluster's copy: this node's damaged state is moved aside, and it re-joins as a learner. */
    rebuildFromPeers: booleanFlag.default(false),
    /** The cluster secret (lsec1-...), or a file holding it; see src/node/trust.ts for the order. */
    clusterSecret: z.string().min(1).optional(),
    clusterSecretFile: z.string().min(1).optional(),
  })
  .transform((c) => ({ ...c, advertise: c.advertise ?? c.listen }));

export type NodeConfig = z.output<typeof nodeConfigSchema>;
export type NodeConfigInput = z.input<typeof nodeConfigSchema>;

export class ConfigError extends Error {
  readonly code = 'BAD_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const envNames: Record<keyof NodeConfigInput, string> = {
  nodeId: 'LARDER_NODE_ID',
  clusterId: 'LARDER_CLUSTER_ID',
  dataDir: 'LARDER_DATA_DIR',
  listen: 'LARDER_LISTEN',
  advertise: 'LARDER_ADVERTISE',
  initialCluster: 'LARDER_INITIAL_CLUSTER',
  hostToken: 'LARDER_HOST_TOKEN',
  clientToken: 'LARDER_CLIENT_TOKEN',
  tickMs: 'LARDER_TICK_MS',
  electionTicks: 'LARDER_ELECTION_TICKS',
  cacheBytes: 'LARDER_CACHE_BYTES',
  forwardUploads: 'LARDER_FORWARD_UPLOADS',
  snapshotEntries: 'LARDER_SNAPSHOT_ENTRIES',
  logLevel: 'LARDER_LOG_LEVEL',
  workers: 'LARDER_WORKERS',
  uploadQueue: 'LARDER_UPLOAD_QUEUE',
  downloadQueue: 'LARDER_DOWNLOAD_QUEUE',
  shedding: 'LARDER_SHEDDING',
  shedPolicies: 'LARDER_SHED_POLICIES',
  admissionConfig: 'LARDER_ADMISSION_CONFIG',
  join: 'LARDER_JOIN',
  expect: 'LARDER_EXPECT',
  discovery: 'LARDER_DISCOVERY',
  mdnsInterface: 'LARDER_MDNS_INTERFACE',
  maxVoters: 'LARDER_MAX_VOTERS',
  voterGraceMs: 'LARDER_VOTER_GRACE_MS',
  rebuildFromPeers: 'LARDER_REBUILD_FROM_PEERS',
  clusterSecret: 'LARDER_CLUSTER_SECRET',
  clusterSecretFile: 'LARDER_CLUSTER_SECRET_FILE',
};

const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Flags win over the environment, which wins over defaults. */
export function resolveConfig(flags: Partial<Record<keyof NodeConfigInput, string>>, env: NodeJS.ProcessEnv): NodeConfig {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(envNames) as (keyof NodeConfigInput)[]) {
    const value = flags[key] ?? env[envNames[key]];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = nodeConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => {
    const key = String(i.path[0] ?? '');
    const where = key in envNames ? `${flagName(key)} (or ${envNames[key as keyof NodeConfigInput]})` : 'config';
    return `  ${where}: ${i.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** Loads `.env` from the working directory if there is one (Node's own loader, no dependency). */
export function loadDotEnv(path = '.env'): void {
  try {
    process.loadEnvFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`cannot read ${path}: ${(e as Error).message}`);
  }
}
