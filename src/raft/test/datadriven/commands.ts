import { InvariantError, RaftError } from '../../errors.js';
import { Args } from './args.js';
import * as drive from './cmd-drive.js';
import * as inspect from './cmd-inspect.js';
import * as net from './cmd-network.js';
import * as setup from './cmd-setup.js';
import type { TestCase } from './datadriven.js';
import type { Env } from './env.js';

type Handler = (env: Env, a: Args) => void;

const handlers: Record<string, Handler> = {
  'add-nodes': setup.addNodes,
  'log-level': setup.logLevel,
  crash: setup.crash,
  restart: setup.restart,
  compact: setup.compact,
  snapshot: setup.snapshot,
  campaign: drive.campaign,
  propose: drive.propose,
  'propose-conf-change': drive.proposeConfChange,
  'transfer-leadership': drive.transferLeadership,
  'read-index': drive.readIndex,
  tick: drive.tick,
  'tick-election': drive.tickElection,
  'tick-heartbeat': drive.tickHeartbeat,
  'report-unreachable': drive.reportUnreachable,
  'report-snapshot': drive.reportSnapshot,
  'process-ready': net.processReady,
  'deliver-msgs': net.deliverMsgs,
  'dup-msgs': net.dupMsgs,
  'stash-msgs': net.stashMsgs,
  'unstash-msgs': net.unstashMsgs,
  msgs: net.msgs,
  stabilize: net.stabilize,
  elapse: net.elapse,
  partition: net.partition,
  isolate: net.isolate,
  drop: net.drop,
  heal: net.heal,
  'raft-state': inspect.raftState,
  'raft-log': inspect.raftLog,
  status: inspect.status,
  'app-state': inspect.appState,
};

/**
 * Runs one command and returns its transcript. A throw from the core (an invariant, a crash) is
 * part of the transcript, so a scenario shows exactly where the core broke; a throw from the
 * harness itself (a malformed script) fails the test instead.
 */
export function runCommand(env: Env, tc: TestCase): string {
  const handler = handlers[tc.cmd];
  if (handler === undefined) throw new Error(`unknown command "${tc.cmd}"`);
  try {
    handler(env, new Args(tc));
  } catch (e) {
    if (!isCoreError(e)) throw e;
    // An invariant or an untyped throw is a core bug; other RaftErrors are refusals (of the
    // storage, say) that a script may provoke on purpose.
    const typed = e instanceof RaftError && !(e instanceof InvariantError);
    env.print(typed ? `error: ${e.message}` : `PANIC ${e.name}: ${e.message}`);
  }
  const out = env.takeOutput();
  return out === '' ? 'ok' : out;
}

/** Errors raised inside src/raft (RaftError and subclasses, or any throw from core code). */
function isCoreError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  if ('code' in e) return true;
  const frame = e.stack?.split('\n').find((l) => l.includes('/src/raft/'));
  return frame !== undefined && !frame.includes('/src/raft/test/');
}
