import type { AdmissionController } from '../controller.js';
import type { RequestKind } from '../policies.js';
import { deferred, settle } from './helpers.js';

/**
 * Submits named tasks that run until the test finishes them, and records the order they start
 * in and the most that ever ran at once.
 */
export function recorder(ctl: AdmissionController, clock: { t: number }) {
  const started: string[] = [];
  const finishers = new Map<string, (ok: boolean) => void>();
  const outcomes = new Map<string, Promise<unknown>>();
  let active = 0;
  let maxActive = 0;

  const submit = (name: string, kind: RequestKind, deadlineAtMs?: number): Promise<unknown> => {
    const outcome = ctl.run(kind, deadlineAtMs, async () => {
      started.push(name);
      maxActive = Math.max(maxActive, ++active);
      const d = deferred<boolean>();
      finishers.set(name, d.resolve);
      const ok = await d.promise;
      active--;
      if (!ok) throw new Error(`${name} failed`);
      return name;
    });
    outcome.catch(() => {}); // inspected by the test when it wants to
    outcomes.set(name, outcome);
    return outcome;
  };

  /** Advances the clock by `ms`, then lets the task end (ok or failing) and whatever it unblocks start. */
  const finish = async (name: string, ms = 0, ok = true): Promise<void> => {
    const f = finishers.get(name);
    if (!f) throw new Error(`${name} is not running`);
    clock.t += ms;
    finishers.delete(name);
    f(ok);
    await settle();
  };

  return { submit, finish, started, outcomes, running: () => [...finishers.keys()], maxActive: () => maxActive };
}
