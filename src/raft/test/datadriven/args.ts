import type { Arg, TestCase } from './datadriven.js';

/** Typed access to a command's arguments; every lookup fails loudly on a malformed script. */
export class Args {
  constructor(private readonly tc: TestCase) {}

  /** Bare arguments (no `=`), in order: ids, payloads, keywords. */
  positional(): string[] {
    return this.tc.args.filter((a) => a.bare).map((a) => a.key);
  }

  has(key: string): boolean {
    return this.find(key) !== undefined;
  }

  str(key: string, dflt?: string): string {
    const a = this.find(key);
    if (a === undefined) {
      if (dflt === undefined) throw new Error(`missing argument ${key}=`);
      return dflt;
    }
    const v = a.vals[0];
    if (a.vals.length !== 1 || v === undefined) throw new Error(`${key}= takes exactly one value`);
    return v;
  }

  int(key: string, dflt?: number): number {
    const raw = this.str(key, dflt === undefined ? undefined : String(dflt));
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new Error(`${key}=${raw} is not an integer`);
    return n;
  }

  optInt(key: string): number | undefined {
    return this.has(key) ? this.int(key) : undefined;
  }

  bool(key: string, dflt?: boolean): boolean {
    const raw = this.str(key, dflt === undefined ? undefined : String(dflt));
    if (raw !== 'true' && raw !== 'false') throw new Error(`${key}=${raw} is not true or false`);
    return raw === 'true';
  }

  optBool(key: string): boolean | undefined {
    return this.has(key) ? this.bool(key) : undefined;
  }

  /** `key=(a,b)` or `key=a` as a list; undefined if absent. */
  list(key: string): string[] | undefined {
    const a = this.find(key);
    return a === undefined ? undefined : [...a.vals];
  }

  private find(key: string): Arg | undefined {
    return this.tc.args.find((x) => !x.bare && x.key === key);
  }
}
