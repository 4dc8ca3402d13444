import { ConfigError, loadDotEnv, resolveConfig, type NodeConfigInput } from '../../node/config.js';
import { LarderNode, NodeStartError } from '../../node/larder-node.js';

export type StartFlags = Partial<Record<keyof NodeConfigInput, string>>;

/** `larder start`: one node, headless, until SIGINT/SIGTERM. */
export async function start(flags: StartFlags): Promise<void> {
  loadDotEnv();
  let config;
  try {
    config = resolveConfig(flags, process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`larder start: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
  let node: LarderNode;
  try {
    node = await LarderNode.start(config);
  } catch (e) {
    // Errors that say what to do are shown as such; anything else keeps its stack for a bug report.
    if (!(e instanceof NodeStartError)) throw e;
    process.stderr.write(`larder start: ${e.message}\n`);
    process.exitCode = 1;
    return;
  }
  node.onLeft(() => process.exit(0));
  node.onFatal(() => {
    process.exitCode = 1;
  });
  const stop = (): void => {
    void node.stop().then(() => process.exit(process.exitCode ?? 0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
