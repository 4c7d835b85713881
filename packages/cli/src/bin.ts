/**
 * Entry point of the `ldl` executable.
 * @internal
 */
import { runCli } from './program';

// process.exit, not a return: the wasm backend's worker threads keep Node's event loop alive.
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
