/**
 * Preloaded (`node --import`) into each part `npm start` spawns, and only there: the part stops
 * when the orchestrator is gone, however it went — a SIGKILL or the OOM killer included, which
 * leave it no chance to stop its parts. The orchestrator holds the write end of the part's stdin
 * and never writes to it; the kernel closes it when the orchestrator dies, and the part reads
 * end-of-file. A part started any other way (production) never loads this.
 */
/** As long as the orchestrator gives a part to stop before it kills it. */
const GRACE_MS = 20_000;

function orchestratorGone(): void {
  // The part's own SIGTERM handler stops it cleanly, as Ctrl-C on `npm start` would; one that hangs is ended anyway.
  setTimeout(() => process.exit(1), GRACE_MS).unref();
  process.kill(process.pid, 'SIGTERM');
}

process.stdin.once('end', orchestratorGone);
process.stdin.once('error', orchestratorGone);
process.stdin.resume();
// Watching must not keep a part alive that has otherwise finished.
process.stdin.unref();
