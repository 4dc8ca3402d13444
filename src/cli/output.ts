import cliProgress from 'cli-progress';
import Table from 'cli-table3';

/** Human output on stdout, progress and diagnostics on stderr (so stdout can be piped). */

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export function progressBars(): cliProgress.MultiBar {
  return new cliProgress.MultiBar(
    {
      format: ' {bar} {percentage}% | {value}/{total} | {name}',
      formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? bytes(v) : String(v)),
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
}

/** Prints an error the way a user can act on, and sets a failing exit code. */
export function fail(message: string, code = 1): void {
  process.stderr.write(`larder: ${message}\n`);
  process.exitCode = code;
}

/** The same, and exits at once: for errors after which the command cannot go on. */
export function die(message: string, code = 1): never {
  fail(message, code);
  process.exit(code);
}
