/**
 * The catalog: file manifests, statuses, locks and members. Documents live in a NeDB datastore
 * (nedb-promises, in memory: lookups by _id, queries) and in one append-only datafile in NeDB's
 * format (catalog-file.ts), so appends stay in order. It is DERIVED state, never the only copy of
 * anything: rebuilt from the latest snapshot plus the Raft log whenever it cannot be trusted.
 *
 * Crash consistency. Appends are not fsynced, so after a crash the file may miss a tail, end in
 * a torn line, or (after power loss) hold garbage. Each applied entry is ONE append: its writes,
 * then the meta document with the applied index and a digest of all documents (state-digest.ts).
 * On load, an unparseable or torn line, an invalid document (zod), or a digest mismatch (lost,
 * added or altered documents, whatever their form) throws CatalogCorruptError: rebuild (recovery.ts).
 */
import Datastore from 'nedb-promises';
import { open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CATALOG_FORMAT_VERSION, emptyMeta, parseCatalogDoc, type CatalogDoc, type DataDoc, type FileDoc, type MetaDoc } from './catalog-docs.js';
import { docLine, readCatalogFile, tombstoneLine, writeCatalogFile } from './catalog-file.js';
import { ChunkRefs } from './chunk-refs.js';
import { CatalogCorruptError, invariant, StoreError } from './errors.js';
import { FileOrder } from './file-order.js';
import { TEMP_SUFFIX } from './fs-atomic.js';
import { StateDigest } from './state-digest.js';

/** The subset of nedb-promises we use, typed (its own typings miss getAllData). */
interface NedbStore {
  findOne(query: object): PromiseLike<unknown>;
  find(query: object): PromiseLike<unknown[]>;
  insert(docs: object[]): Promise<unknown>;
  update(query: object, doc: object, options: { upsert: boolean }): Promise<unknown>;
  remove(query: object, options: object): Promise<number>;
  getAllData(): unknown[];
}

export interface CatalogInit {
  /** false skips fsync of full rewrites (tests and benches only). */
  readonly fsync?: boolean;
  /** Rewrite the datafile once appended lines exceed both this and the number of files (like Redis's AOF rewrite). */
  readonly compactAfterLines?: number;
}

const COMPACT_AFTER_LINES_DEFAULT = 10_000;
const INSERT_BATCH = 5_000;

export class Catalog {
  readonly refs: ChunkRefs;
  readonly order: FileOrder;
  private pending = '';
  private appendedLines: number;
  private appender: FileHandle | null = null;

  private constructor(
    private readonly db: NedbStore,
    private filename: string | null,
    private meta: MetaDoc,
    private readonly digest: StateDigest,
    docs: readonly DataDoc[],
    private readonly init: CatalogInit,
    linesOnDisk: number,
  ) {
    const files = docs.filter((d): d is FileDoc => d.kind === 'file');
    this.refs = ChunkRefs.fromDocs(files);
    this.order = FileOrder.fromDocs(files);
    this.appendedLines = Math.max(0, linesOnDisk - docs.length - 1);
  }

  /** Loads and verifies the datafile; a missing one is created empty (`existed: false`). Throws CatalogCorruptError. */
  static async open(filename: string, init: CatalogInit = {}): Promise<{ catalog: Catalog; existed: boolean }> {
    await removeStaleTemps(filename);
    const loaded = await readCatalogFile(filename);
    if (loaded === null) {
      const catalog = await Catalog.build(null, emptyMeta(), new StateDigest(), [], init, 0);
      await catalog.attach(filename);
      return { catalog, existed: false };
    }
    if (loaded.meta.formatVersion !== CATALOG_FORMAT_VERSION)
      throw new CatalogCorruptError(filename, `format version ${loaded.meta.formatVersion}, this node writes ${CATALOG_FORMAT_VERSION}`);
    return { catalog: await Catalog.build(filename, loaded.meta, loaded.digest, loaded.docs, init, loaded.lines), existed: true };
  }

  /** An in-memory catalog of validated documents (meta first or anywhere); `attach` gives it a file. */
  static async fromDocs(docs: readonly CatalogDoc[], init: CatalogInit = {}): Promise<Catalog> {
    const meta = docs.find((d): d is MetaDoc => d.kind === 'meta');
    invariant(meta !== undefined, () => 'a catalog needs its meta document');
    const data = docs.filter((d): d is DataDoc => d.kind !== 'meta'); // a new array: build() may clear it
    const digest = new StateDigest();
    for (const doc of data) digest.toggle(JSON.stringify(doc));
    invariant(digest.toHex() === meta.digest, () => 'documents do not match the digest in their meta document');
    return Catalog.build(null, meta, digest, data, init, 0);
  }

  static empty(init: CatalogInit = {}): Promise<Catalog> {
    return Catalog.fromDocs([emptyMeta()], init);
  }

  private static async build(filename: string | null, meta: MetaDoc, digest: StateDigest, docs: DataDoc[], init: CatalogInit, lines: number): Promise<Catalog> {
    const db = Datastore.create({ inMemoryOnly: true }) as unknown as NedbStore;
    const catalog = new Catalog(db, filename, meta, digest, docs, init, lines);
    // NeDB deep-copies on insert: drop our copies batch by batch, so they become garbage as we go.
    for (let i = 0; i < docs.length; i += INSERT_BATCH) {
      await db.insert(docs.slice(i, i + INSERT_BATCH));
      docs.fill(undefined as unknown as DataDoc, i, i + INSERT_BATCH);
    }
    return catalog;
  }

  get appliedIndex(): number {
    return this.meta.appliedIndex;
  }

  get clockMs(): number {
    return this.meta.clockMs;
  }

  get digestHex(): string {
    return this.meta.digest;
  }

  get metaDoc(): MetaDoc {
    return this.meta;
  }

  async findById(id: string): Promise<DataDoc | null> {
    return (await this.db.findOne({ _id: id })) as DataDoc | null;
  }

  async find(query: object): Promise<DataDoc[]> {
    return (await this.db.find(query)) as DataDoc[];
  }

  /** Every document but meta, as NeDB holds them: read-only, never mutate. */
  dataDocs(): readonly DataDoc[] {
    return this.db.getAllData() as DataDoc[];
  }

  async put(doc: DataDoc): Promise<void> {
    const normalized = normalize(doc);
    const old = await this.findById(doc._id);
    if (old !== null) this.forget(old);
    this.digest.toggle(JSON.stringify(normalized));
    await this.db.update({ _id: doc._id }, normalized, { upsert: true });
    if (normalized.kind === 'file') {
      this.refs.addFile(normalized.chunkHashes);
      this.order.upsert(normalized);
    }
    if (this.filename !== null) this.pending += docLine(normalized);
  }

  async remove(id: string): Promise<void> {
    const old = await this.findById(id);
    if (old === null) return;
    this.forget(old);
    await this.db.remove({ _id: id }, {});
    if (this.filename !== null) this.pending += tombstoneLine(id);
  }

  /** The end of every apply: the meta document (applied index, clock, digest) and this entry's writes, in one append. */
  async commitMeta(appliedIndex: number, clockMs: number): Promise<void> {
    this.meta = normalize({ ...this.meta, appliedIndex, clockMs, digest: this.digest.toHex() });
    if (this.filename === null) return;
    const text = this.pending + docLine(this.meta);
    this.pending = '';
    this.appender ??= await open(this.filename, 'a');
    await this.appender.write(text);
    this.appendedLines += text.split('\n').length - 1;
    if (this.appendedLines > Math.max(this.init.compactAfterLines ?? COMPACT_AFTER_LINES_DEFAULT, this.order.size)) await this.compact();
  }

  /** Writes a full image to `filename` atomically (fsynced) and appends there from now on. */
  async attach(filename: string): Promise<void> {
    invariant(this.pending === '', () => 'cannot attach a catalog in the middle of an apply');
    await this.appender?.close();
    this.appender = null;
    await writeCatalogFile(filename, this.meta, this.dataDocs(), this.init);
    this.filename = filename;
    this.appendedLines = 0;
  }

  /** Rewrites the datafile from memory: bounds its size and leaves a fsynced image. */
  async compact(): Promise<void> {
    if (this.filename !== null) await this.attach(this.filename);
  }

  /** Compacts, so a clean shutdown leaves a fsynced file with no torn tail. */
  async close(): Promise<void> {
    await this.compact();
    await this.dispose();
  }

  /** Stops appending without a rewrite: for a catalog being replaced by another (restore, rebuild). */
  async dispose(): Promise<void> {
    await this.appender?.close();
    this.appender = null;
    this.filename = null;
  }

  private forget(old: DataDoc): void {
    this.digest.toggle(JSON.stringify(old));
    if (old.kind === 'file') {
      this.refs.removeFile(old.chunkHashes);
      this.order.remove(old);
    }
  }
}

/** Temp files of full rewrites a crash cut short: never the datafile (the rename did not happen). */
async function removeStaleTemps(filename: string): Promise<void> {
  const prefix = `.${basename(filename)}.`;
  for (const name of await readdir(dirname(filename)).catch(() => [])) {
    if (name.startsWith(prefix) && name.endsWith(TEMP_SUFFIX)) await rm(join(dirname(filename), name), { force: true });
  }
}

/** Validates before writing (a failure is a bug in apply, never user input) and fixes the key order the digest depends on. */
function normalize<T extends CatalogDoc>(doc: T): T {
  const parsed = parseCatalogDoc(doc);
  if (!parsed.ok) throw new StoreError('INVALID_ARGUMENT', `refusing to write invalid catalog document ${doc._id}: ${parsed.why}`);
  return parsed.doc as T;
}
